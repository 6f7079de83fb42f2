//! The test-only ports of LibreChat's `encrypt`/`encryptV2`/`encryptV3` reproduce what
//! LibreChat's own code (Node's crypto, packages/data-schemas/src/crypto/index.ts) produced for
//! the same key, IV and plaintext (golden vectors from /work/notes/issue21-golden-vectors.mjs).

mod support;

use support::librechat_dump::crypto::{Creds, encode_uri_component, sha256_hex};
use support::librechat_dump::{CREDS_IV, CREDS_KEY};

fn iv(hex_iv: &str) -> [u8; 16] {
    hex::decode(hex_iv).unwrap().try_into().unwrap()
}

#[test]
fn ports_reproduce_librechat_golden_vectors() {
    let creds = Creds::from_hex(CREDS_KEY, CREDS_IV);
    assert_eq!(
        creds.encrypt_v1("sk-test-key-123"),
        "dc3546e738f27e44d62925ec7c3db7a5"
    );
    assert_eq!(
        creds.encrypt_v2("JBSWY3DPEHPK3PXP", iv("101112131415161718191a1b1c1d1e1f")),
        "101112131415161718191a1b1c1d1e1f:9ec1ef63dc3b2b61807315e1b426740bd2b0c5a190e4138b2a89da6661138e52"
    );
    assert_eq!(encode_uri_component("a:b c"), "a%3Ab%20c");
    assert_eq!(
        creds.encrypt_v2(
            &encode_uri_component("a:b c"),
            iv("101112131415161718191a1b1c1d1e1f")
        ),
        "101112131415161718191a1b1c1d1e1f:6d3243d066dc74f57cbf9204ef634dab"
    );
    assert_eq!(
        creds.encrypt_v3("JBSWY3DPEHPK3PXP", iv("202122232425262728292a2b2c2d2e2f")),
        "v3:202122232425262728292a2b2c2d2e2f:2be4c03917bc544c5989a9d88612f884"
    );
    assert_eq!(
        sha256_hex("0a1b2c3d"),
        "2510026a8dfd31fdbc25636d0d1527d3c2d8a0666ce6316fb1c236dfb2e3cfab"
    );
    // Trimmed like LibreChat's hashBackupCode.
    assert_eq!(sha256_hex(" 0a1b2c3d\n"), sha256_hex("0a1b2c3d"));
}

#[test]
fn encode_uri_component_keeps_what_javascript_keeps() {
    assert_eq!(encode_uri_component("AZaz09-_.!~*'()"), "AZaz09-_.!~*'()");
    assert_eq!(encode_uri_component("é/?&= "), "%C3%A9%2F%3F%26%3D%20");
}
