//! Encryption at rest with `CREDS_KEY`: AES-256-GCM, each value with its own random nonce.
//! Stored as `v3:<nonce hex>:<ciphertext and tag hex>`, the shape of LibreChat's GCM values.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

/// Encrypts and decrypts small secrets (TOTP secrets, user API keys).
pub struct Cipher {
    aes: Aes256Gcm,
}

#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (was CREDS_KEY changed?)")]
pub struct DecryptError;

impl Cipher {
    /// `creds_key_hex` is the 64-hex-character `CREDS_KEY` (validated when settings load).
    pub fn new(creds_key_hex: &str) -> Self {
        let key = hex::decode(creds_key_hex).unwrap_or_else(|_| vec![0; 32]);
        let key: [u8; 32] = key.try_into().unwrap_or([0; 32]);
        Self {
            aes: Aes256Gcm::new(&key.into()),
        }
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("system randomness");
        let ct = self
            .aes
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of a small value cannot fail");
        format!("v3:{}:{}", hex::encode(nonce), hex::encode(ct))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, DecryptError> {
        let rest = stored.strip_prefix("v3:").ok_or(DecryptError)?;
        let (nonce, ct) = rest.split_once(':').ok_or(DecryptError)?;
        let nonce = hex::decode(nonce).map_err(|_| DecryptError)?;
        let ct = hex::decode(ct).map_err(|_| DecryptError)?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| DecryptError)?;
        let pt = self
            .aes
            .decrypt(&Nonce::from(nonce), ct.as_ref())
            .map_err(|_| DecryptError)?;
        String::from_utf8(pt).map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = Cipher::new(KEY);
        let a = c.encrypt("JBSWY3DPEHPK3PXP");
        let b = c.encrypt("JBSWY3DPEHPK3PXP");
        assert_ne!(a, b);
        assert!(a.starts_with("v3:") && !a.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(c.decrypt(&a).unwrap(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn tampering_or_another_key_fails() {
        let c = Cipher::new(KEY);
        let mut stored = c.encrypt("secret");
        let last = stored.pop().unwrap();
        stored.push(if last == '0' { '1' } else { '0' });
        assert!(c.decrypt(&stored).is_err());
        let other = Cipher::new(&"ff".repeat(32));
        assert!(other.decrypt(&c.encrypt("secret")).is_err());
        assert!(c.decrypt("plain").is_err());
        assert!(c.decrypt("v3:zz:zz").is_err());
    }
}
