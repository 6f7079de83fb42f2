//! Test-only ports of LibreChat's secret formats (packages/data-schemas/src/crypto/index.ts), to
//! store secrets in a dump the way LibreChat did. Only the encrypting side: decrypting them is
//! the migrator's job, and these let its tests check it against the real formats.

use aes::Aes256;
use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};

/// LibreChat's key material: `CREDS_KEY` (32 bytes) and `CREDS_IV` (16 bytes), as hex in `.env`.
#[derive(Clone, Debug)]
pub struct Creds {
    pub key: [u8; 32],
    pub iv: [u8; 16],
}

impl Creds {
    /// From the two hex strings of a LibreChat `.env`; panics on bad hex (fixtures only).
    pub fn from_hex(key: &str, iv: &str) -> Creds {
        let key = hex::decode(key).expect("CREDS_KEY hex");
        let iv = hex::decode(iv).expect("CREDS_IV hex");
        Creds {
            key: key.try_into().expect("32-byte CREDS_KEY"),
            iv: iv.try_into().expect("16-byte CREDS_IV"),
        }
    }

    /// `encrypt` (v1): AES-256-CBC with PKCS#7 padding and the fixed `CREDS_IV`, hex ciphertext.
    /// LibreChat stores `keys.value` and `pluginauths.value` this way.
    pub fn encrypt_v1(&self, value: &str) -> String {
        hex::encode(cbc_encrypt(&self.key, &self.iv, value.as_bytes()))
    }

    /// `encryptV2`: AES-256-CBC with a random IV (given here), stored `hex(iv):hex(ciphertext)`.
    /// Older `users.totpSecret`, action credentials, MCP server secrets, OAuth tokens.
    pub fn encrypt_v2(&self, value: &str, iv: [u8; 16]) -> String {
        format!(
            "{}:{}",
            hex::encode(iv),
            hex::encode(cbc_encrypt(&self.key, &iv, value.as_bytes()))
        )
    }

    /// `encryptV3`: AES-256-CTR (128-bit big-endian counter from the IV), stored
    /// `v3:hex(iv):hex(ciphertext)`. Current `users.totpSecret`.
    pub fn encrypt_v3(&self, value: &str, iv: [u8; 16]) -> String {
        let mut data = value.as_bytes().to_vec();
        ctr::Ctr128BE::<Aes256>::new(&self.key.into(), &iv.into()).apply_keystream(&mut data);
        format!("v3:{}:{}", hex::encode(iv), hex::encode(data))
    }
}

/// LibreChat's `hashBackupCode` (and `hashToken`): SHA-256 hex of the (trimmed) code.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.trim().as_bytes()))
}

/// JavaScript's `encodeURIComponent`: LibreChat encodes action credentials with it before
/// `encryptV2` (api/server/services/ActionService.js).
pub fn encode_uri_component(value: &str) -> String {
    const KEEP: &[u8] = b"-_.!~*'()";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || KEEP.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// AES-256-CBC with PKCS#7 padding, as WebCrypto's AES-CBC does.
fn cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    let cipher = Aes256::new(key.into());
    let pad = 16 - plain.len() % 16;
    let mut data = plain.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = *iv;
    for chunk in data.chunks_mut(16) {
        for (b, p) in chunk.iter_mut().zip(prev) {
            *b ^= p;
        }
        let mut block: [u8; 16] = (*chunk).try_into().expect("16-byte block");
        cipher.encrypt_block((&mut block).into());
        chunk.copy_from_slice(&block);
        prev = block;
    }
    data
}
