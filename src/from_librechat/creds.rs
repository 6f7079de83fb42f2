//! LibreChat's encrypted secrets, decrypted with the `CREDS_KEY` and `CREDS_IV` of its `.env`
//! so they can be sealed again our way ([`crate::auth::crypto::Cipher`], AES-256-GCM).
//!
//! LibreChat has written three formats over time (packages/data-schemas/src/crypto):
//! * v1: `hex(ciphertext)`, AES-256-CBC with the fixed `CREDS_IV` (user keys, plugin keys);
//! * v2: `hex(iv):hex(ciphertext)`, AES-256-CBC with a random IV (older TOTP secrets, action
//!   credentials, MCP secrets);
//! * v3: `v3:hex(iv):hex(ciphertext)`, AES-256-CTR with a random 16-byte IV (current TOTP
//!   secrets). Ours also starts with `v3:` but has a 12-byte nonce (24 hex characters), which
//!   is how the two are told apart.
//!
//! None of LibreChat's formats authenticates its ciphertext, so a wrong key is noticed only by
//! the padding (CBC) or by the text not being what the field holds (CTR): callers check it.

use aes::Aes256;
use aes::cipher::{BlockDecrypt, KeyInit, KeyIvInit, StreamCipher};

/// `CREDS_KEY` and `CREDS_IV` of the LibreChat being left.
pub struct LibreChatKeys {
    key: [u8; 32],
    iv: [u8; 16],
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("CREDS_KEY must be 64 hex characters")]
    Key,
    #[error("CREDS_IV must be 32 hex characters")]
    Iv,
}

impl LibreChatKeys {
    pub fn new(key_hex: &str, iv_hex: &str) -> Result<Self, KeyError> {
        let key = hex::decode(key_hex.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or(KeyError::Key)?;
        let iv = hex::decode(iv_hex.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or(KeyError::Iv)?;
        Ok(Self { key, iv })
    }

    /// Reads `CREDS_KEY` and `CREDS_IV` from the text of a `.env` file.
    pub fn from_env_text(text: &str) -> anyhow::Result<Self> {
        let mut key = None;
        let mut iv = None;
        for line in text.lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            match name.trim() {
                "CREDS_KEY" => key = Some(value.to_owned()),
                "CREDS_IV" => iv = Some(value.to_owned()),
                _ => {}
            }
        }
        let (Some(key), Some(iv)) = (key, iv) else {
            anyhow::bail!("the .env file does not set both CREDS_KEY and CREDS_IV");
        };
        Ok(Self::new(&key, &iv)?)
    }

    /// Decrypts a value in any of LibreChat's formats. `fixed_iv` says the field is one LibreChat
    /// writes with v1 (a bare hex string is then ciphertext, not plain text).
    pub fn decrypt(&self, stored: &str, fixed_iv: bool) -> Result<String, &'static str> {
        let bytes = if let Some(rest) = stored.strip_prefix("v3:") {
            let (iv, ct) = rest.split_once(':').ok_or("a v3 value without its IV")?;
            if iv.len() != 32 {
                return Err("not a LibreChat v3 value (is it this server's own?)");
            }
            let iv = unhex16(iv)?;
            let mut data = hex::decode(ct).map_err(|_| "not hex")?;
            let mut ctr = ctr::Ctr128BE::<Aes256>::new(&self.key.into(), &iv.into());
            ctr.apply_keystream(&mut data);
            data
        } else if let Some((iv, ct)) = stored.split_once(':') {
            cbc_decrypt(&self.key, &unhex16(iv)?, ct)?
        } else if fixed_iv {
            cbc_decrypt(&self.key, &self.iv, stored)?
        } else {
            return Ok(stored.to_owned());
        };
        String::from_utf8(bytes).map_err(|_| "the decrypted bytes are not text (wrong CREDS_KEY?)")
    }
}

fn unhex16(s: &str) -> Result<[u8; 16], &'static str> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or("an IV that is not 16 bytes of hex")
}

/// AES-256-CBC with PKCS#7 padding, as WebCrypto and Node write it. Written out because the
/// block mode is ten lines over the AES the GCM cipher already brings.
fn cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], ct_hex: &str) -> Result<Vec<u8>, &'static str> {
    let ct = hex::decode(ct_hex).map_err(|_| "not hex")?;
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err("a CBC ciphertext that is not whole blocks");
    }
    let aes = Aes256::new(key.into());
    let mut out = Vec::with_capacity(ct.len());
    let mut prev = *iv;
    for block in ct.chunks_exact(16) {
        let mut b = aes::Block::from(<[u8; 16]>::try_from(block).unwrap_or_default());
        aes.decrypt_block(&mut b);
        out.extend(b.iter().zip(prev).map(|(x, p)| x ^ p));
        prev.copy_from_slice(block);
    }
    let pad = usize::from(*out.last().unwrap_or(&0));
    if pad == 0
        || pad > 16
        || !out[out.len() - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad)
    {
        return Err("the padding is wrong (wrong CREDS_KEY or CREDS_IV?)");
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with Node's crypto by LibreChat's own functions (encrypt, encryptV2, encryptV3).
    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const IV: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";

    fn keys() -> LibreChatKeys {
        LibreChatKeys::new(KEY, IV).unwrap()
    }

    #[test]
    fn every_librechat_format_decrypts() {
        let k = keys();
        assert_eq!(
            k.decrypt("dc3546e738f27e44d62925ec7c3db7a5", true).unwrap(),
            "sk-test-key-123"
        );
        assert_eq!(
            k.decrypt("101112131415161718191a1b1c1d1e1f:9ec1ef63dc3b2b61807315e1b426740bd2b0c5a190e4138b2a89da6661138e52", false)
                .unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            k.decrypt(
                "101112131415161718191a1b1c1d1e1f:6d3243d066dc74f57cbf9204ef634dab",
                false
            )
            .unwrap(),
            "a%3Ab%20c"
        );
        assert_eq!(
            k.decrypt(
                "v3:202122232425262728292a2b2c2d2e2f:2be4c03917bc544c5989a9d88612f884",
                false
            )
            .unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        // A plain TOTP secret of an old install stays as it is.
        assert_eq!(
            k.decrypt("JBSWY3DPEHPK3PXP", false).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn a_wrong_key_is_noticed_by_cbc_and_ours_is_refused() {
        let wrong = LibreChatKeys::new(&KEY.replace("00", "ff"), IV).unwrap();
        assert!(
            wrong
                .decrypt("dc3546e738f27e44d62925ec7c3db7a5", true)
                .is_err()
        );
        let ours = crate::auth::crypto::Cipher::new(KEY).encrypt("x");
        assert!(keys().decrypt(&ours, false).is_err());
    }

    #[test]
    fn keys_come_from_a_dotenv() {
        let k = LibreChatKeys::from_env_text(&format!(
            "# LibreChat\nCREDS_KEY={KEY}\nexport CREDS_IV=\"{IV}\"\n"
        ))
        .unwrap();
        assert_eq!(
            k.decrypt("dc3546e738f27e44d62925ec7c3db7a5", true).unwrap(),
            "sk-test-key-123"
        );
        assert!(LibreChatKeys::from_env_text("CREDS_KEY=00").is_err());
    }
}
