//! Integrity-protected tokens: 2026-07-28 `requestState` and list cursors.
//!
//! Both travel through the client, so both are attacker-controlled. Each is
//! `v1.<base64url payload>.<base64url HMAC-SHA256>` under a per-server key; anything altered,
//! truncated or expired fails verification.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::protocol::JsonObject;

type HmacSha256 = Hmac<Sha256>;

/// The longest sealed token accepted, in bytes.
pub(crate) const MAX_SEALED_LEN: usize = 512 * 1024;

/// A secret key for sealing.
#[derive(Clone)]
pub(crate) struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub(crate) fn random() -> Self {
        let mut k = [0u8; 32];
        // An OS without a CSPRNG cannot serve securely at all; fall back to a hash of the time
        // and address only so that the process still starts, and say so loudly.
        if getrandom::fill(&mut k).is_err() {
            tracing::error!("no OS random source: requestState keys are weak");
            let seed = format!("{:?}{:p}", SystemTime::now(), &k);
            k.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        }
        SealKey(k)
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        SealKey(Sha256::digest(bytes).into())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    pub(crate) fn seal<T: Serialize>(&self, value: &T) -> String {
        let payload = serde_json::to_vec(value).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        format!(
            "v1.{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    pub(crate) fn open<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        if token.len() > MAX_SEALED_LEN {
            return None;
        }
        let rest = token.strip_prefix("v1.")?;
        let (payload, tag) = rest.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&tag).ok()?;
        serde_json::from_slice(&payload).ok()
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A digest of arguments, binding a requestState to the call it was issued for.
pub(crate) fn digest(args: &JsonObject) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(serde_json::to_vec(args).unwrap_or_default()))
}

/// What a requestState carries.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RequestState {
    /// Method.
    pub(crate) m: String,
    /// Tool/prompt name or resource URI.
    pub(crate) n: String,
    /// Arguments digest.
    pub(crate) a: String,
    /// Expiry, unix seconds.
    pub(crate) exp: u64,
    /// Answers gathered in earlier rounds.
    pub(crate) ans: JsonObject,
}

/// What a list cursor carries.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Which list.
    pub(crate) l: String,
    /// Offset of the next page.
    pub(crate) o: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_is_detected() {
        let k = SealKey::random();
        let t = k.seal(&Cursor {
            l: "tools".into(),
            o: 100,
        });
        let c: Cursor = k.open(&t).unwrap();
        assert_eq!(c.o, 100);
        let mut bad = t.clone().into_bytes();
        let i = bad.len() / 2;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        assert!(k
            .open::<Cursor>(std::str::from_utf8(&bad).unwrap())
            .is_none());
        assert!(SealKey::random().open::<Cursor>(&t).is_none());
        assert!(k.open::<Cursor>("v1.tampered").is_none());
    }
}
