"""A moto server on a free loopback port for the benchmark scripts, started in its own session
so it can be killed as a group and so its CPU time never counts as a child's of the script."""

import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalMoto:
    def __init__(self):
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("moto_server did not start; install it with pip install 'moto[server]'")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.killpg(self.process.pid, 9)
