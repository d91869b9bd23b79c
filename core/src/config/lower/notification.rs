//! `notification` blocks: which events (AWS Backup's names and coffer's own) to deliver, to
//! a `webhook { url, headers, header_env }` or a `command`, exactly one, tried again
//! `retries` times. Secrets belong in `header_env`, which names environment variables.

use super::*;
use crate::notify::NotificationEvent;
use crate::objects::attrs::WebhookAttrs;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_notification(&mut self, d: &Decl<'_>) -> Option<Notification> {
        let view = d.view("notification");
        self.check_body(&view, &["events", "command", "retries"], &["webhook"]);
        let mut events = Vec::new();
        let names: Vec<&str> = NotificationEvent::ALL.iter().map(|e| e.name()).collect();
        for e in self.string_list(&view, "events") {
            match NotificationEvent::parse(&e) {
                Some(ev) if !events.contains(&ev) => events.push(ev),
                Some(_) => {}
                None => {
                    let span = view
                        .body
                        .get_attribute("events")
                        .map(|a| span_of(d.file, a.value.span()))
                        .unwrap_or_else(|| view.header.clone());
                    let help = match did_you_mean(&e, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("events: {}", names.join(", ")),
                    };
                    self.push(
                        Diagnostic::error(
                            "coffer::unknown_event",
                            format!("`{e}` is not an event coffer notifies of"),
                        )
                        .at(span, "unknown event")
                        .with_help(help),
                    );
                }
            }
        }
        match view.body.get_attribute("events") {
            None => self.missing(&view, "events", "events = [\"BACKUP_JOB_FAILED\"]"),
            Some(a) if events.is_empty() && self.string_list(&view, "events").is_empty() => self
                .push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("notification `{}` delivers no event", d.name),
                    )
                    .at(span_of(d.file, a.value.span()), "empty")
                    .with_help(format!("events: {}", names.join(", "))),
                ),
            Some(_) => {}
        }
        let retries = self.count(&view, "retries", 10).map_or(3, |(n, _)| n);
        let command = view
            .body
            .get_attribute("command")
            .is_some()
            .then(|| self.string_list(&view, "command"));
        if command.as_ref().is_some_and(Vec::is_empty) {
            self.push(
                Diagnostic::error("coffer::invalid_value", "a notification's command is empty")
                    .at(view.header.clone(), "no program")
                    .with_help("command = [\"./notify.sh\", \"--channel\", \"backups\"]; it gets the payload as JSON on standard input"),
            );
        }
        let webhook = self.single_block(&view, "webhook").and_then(|b| {
            let wview = View {
                file: d.file,
                body: &b.body,
                what: "webhook block".into(),
                header: header_span(d.file, b),
            };
            self.check_body(&wview, &["url", "headers", "header_env"], &[]);
            let (url, span) =
                self.required_string(&wview, "url", "url = \"https://hooks.example.com/…\"")?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("`{url}` is not an http(s) URL"),
                    )
                    .at(span, "not http:// or https://")
                    .with_help("webhooks are POSTed to an https:// (or http://) URL"),
                );
            }
            Some(WebhookAttrs {
                url,
                headers: self.string_map(&wview, "headers"),
                header_env: self.string_map(&wview, "header_env"),
            })
        });
        match (&webhook, &command) {
            (Some(_), Some(_)) => self.push(
                Diagnostic::error(
                    "coffer::conflicting_attributes",
                    format!("notification `{}` has both a webhook and a command", d.name),
                )
                .at(view.header.clone(), "both given")
                .with_help("give one: a `webhook { url }` block or `command = [...]`; declare a second notification for the other"),
            ),
            (None, None) if view.body.blocks().all(|b| b.ident.value().as_str() != "webhook") => self.push(
                Diagnostic::error(
                    "coffer::missing_attribute",
                    format!("notification `{}` delivers nowhere", d.name),
                )
                .at(view.header.clone(), "no webhook or command")
                .with_help("add `webhook { url = \"https://…\" }` or `command = [\"./notify.sh\"]`"),
            ),
            _ => {}
        }
        Some(Notification {
            name: d.name.clone(),
            events,
            webhook,
            command,
            retries,
            span: d.name_span.clone(),
        })
    }
}
