//! restic's authenticated encryption (AES-256-CTR with Poly1305-AES) under a repository's
//! master key: what coffer encrypts or decrypts itself, beside rustic_core (lock files, and
//! the blobs of packs the restorer reads).

use aes256ctr_poly1305aes::aead::{Aead, AeadInPlace};
use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use rustic_core::repofile::MasterKey;

/// The length of restic's per-message IV in front of the ciphertext, and of its MAC behind it.
const IV: usize = 16;
const MAC: usize = 16;

/// The cipher of a repository's master key.
pub(super) fn cipher(key: &MasterKey) -> Result<Aes256CtrPoly1305Aes, String> {
    let mut bytes = [0u8; 64];
    if key.encrypt.len() != 32 || key.mac.k.len() != 16 || key.mac.r.len() != 16 {
        return Err("the repository key has an unexpected shape".into());
    }
    bytes[..32].copy_from_slice(&key.encrypt);
    bytes[32..48].copy_from_slice(&key.mac.k);
    bytes[48..].copy_from_slice(&key.mac.r);
    Ok(Aes256CtrPoly1305Aes::new(
        aes256ctr_poly1305aes::Key::from_slice(&bytes),
    ))
}

/// `data` encrypted in restic's layout: a random IV, the ciphertext, the MAC.
pub(super) fn encrypt(c: &Aes256CtrPoly1305Aes, data: &[u8]) -> Result<Vec<u8>, String> {
    let nonce = *uuid::Uuid::new_v4().as_bytes();
    let mut out = Vec::with_capacity(data.len() + IV + MAC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(data);
    let tag = c
        .encrypt_in_place_detached((&nonce).into(), &[], &mut out[IV..])
        .map_err(|e| e.to_string())?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The plaintext of `data` (restic's layout), or `None` when it is too short or its MAC does
/// not match.
pub(super) fn decrypt(c: &Aes256CtrPoly1305Aes, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < IV + MAC {
        return None;
    }
    c.decrypt(data[..IV].into(), &data[IV..]).ok()
}

/// [`decrypt`] into `out` (cleared first), so that a caller decrypting many messages reuses
/// one buffer. False when `data` is too short or its MAC does not match.
pub(super) fn decrypt_into(c: &Aes256CtrPoly1305Aes, data: &[u8], out: &mut Vec<u8>) -> bool {
    if data.len() < IV + MAC {
        return false;
    }
    let (iv, rest) = data.split_at(IV);
    let (ciphertext, tag) = rest.split_at(rest.len() - MAC);
    out.clear();
    out.extend_from_slice(ciphertext);
    c.decrypt_in_place_detached(iv.into(), &[], out, tag.into())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encrypted_decrypts_both_ways_and_a_flipped_bit_does_not() {
        let c = cipher(&MasterKey::new()).unwrap();
        let mut sealed = encrypt(&c, b"restic's layout").unwrap();
        assert_eq!(sealed.len(), 15 + IV + MAC);
        assert_eq!(decrypt(&c, &sealed).unwrap(), b"restic's layout");
        let mut out = vec![1, 2, 3];
        assert!(decrypt_into(&c, &sealed, &mut out));
        assert_eq!(out, b"restic's layout");
        sealed[IV + 2] ^= 1;
        assert!(decrypt(&c, &sealed).is_none());
        assert!(!decrypt_into(&c, &sealed, &mut out));
        assert!(!decrypt_into(&c, &sealed[..IV + MAC - 1], &mut out));
    }
}
