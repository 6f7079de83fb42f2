//! SAML responses made by the test and signed with a test key by `xmlsec1` (Debian's xmlsec1:
//! an XML-DSig implementation independent of the one under test), to reach the cases a real
//! IdP never sends: a tampered assertion, signature wrapping, a wrong audience, an expired
//! assertion, a replay, another key. Skipped with a note where xmlsec1 is missing, unless
//! `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;

use super::smtp::peers_required;

pub const IDP_ENTITY: &str = "https://idp.test/metadata";

/// The test IdP's key and certificate, and another pair it does not own.
pub struct TestIdp {
    dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub other_cert: PathBuf,
    pub other_key: PathBuf,
}

impl TestIdp {
    /// `None` (after a note) when xmlsec1 is not installed.
    pub fn new() -> Option<Self> {
        if Command::new("xmlsec1").arg("--version").output().is_err() {
            assert!(
                !peers_required(),
                "xmlsec1 is required (LIBRECHAT_REQUIRE_PEERS=1) but is not installed"
            );
            eprintln!("skipped: xmlsec1 is not installed (apt install xmlsec1, or run .ci/run)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        for name in ["idp", "other"] {
            super::self_signed(dir.path(), name);
        }
        Some(Self {
            cert: dir.path().join("idp.crt"),
            key: dir.path().join("idp.key"),
            other_cert: dir.path().join("other.crt"),
            other_key: dir.path().join("other.key"),
            dir,
        })
    }

    /// Signs the first `<ds:Signature>` template in `xml`, over the element (`Assertion` or
    /// `Response`) whose `ID` it references, with `key` and `cert`.
    pub fn sign_with(&self, xml: &str, element: &str, key: &Path, cert: &Path) -> String {
        let input = self.dir.path().join("in.xml");
        let output = self.dir.path().join("out.xml");
        std::fs::write(&input, xml).unwrap();
        let ns = if element == "Assertion" {
            "urn:oasis:names:tc:SAML:2.0:assertion"
        } else {
            "urn:oasis:names:tc:SAML:2.0:protocol"
        };
        let out = Command::new("xmlsec1")
            .arg("--sign")
            .arg("--privkey-pem")
            .arg(format!("{},{}", key.display(), cert.display()))
            .arg("--id-attr:ID")
            .arg(format!("{ns}:{element}"))
            .arg("--output")
            .arg(&output)
            .arg(&input)
            .output()
            .expect("xmlsec1");
        assert!(
            out.status.success(),
            "xmlsec1: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signed = std::fs::read_to_string(&output).unwrap();
        // Drop the XML declaration so the result can be embedded.
        match signed.strip_prefix("<?xml version=\"1.0\"?>") {
            Some(rest) => rest.trim_start().to_owned(),
            None => signed,
        }
    }

    pub fn sign(&self, xml: &str, element: &str) -> String {
        self.sign_with(xml, element, &self.key, &self.cert)
    }
}

fn instant(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

fn random_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

fn signature_template(id: &str) -> String {
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo></ds:Signature>"##
    )
}

/// What a forged response says; each test changes what it needs.
#[derive(Clone)]
pub struct Forge {
    pub issuer: String,
    pub audience: String,
    /// The Response's Destination and the bearer confirmation's Recipient.
    pub acs: String,
    /// A different Recipient, when set.
    pub recipient: Option<String>,
    pub response_id: String,
    pub assertion_id: String,
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// Seconds from now.
    pub not_before: i64,
    pub not_on_or_after: i64,
    pub status: String,
}

impl Forge {
    pub fn new(audience: &str, acs: &str, email: &str) -> Self {
        Self {
            issuer: IDP_ENTITY.into(),
            audience: audience.into(),
            acs: acs.into(),
            recipient: None,
            response_id: random_id(),
            assertion_id: random_id(),
            in_response_to: None,
            name_id: format!("subject-{}", email.split('@').next().unwrap()),
            name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
            email: email.into(),
            given_name: "Forged".into(),
            family_name: "Person".into(),
            not_before: -60,
            not_on_or_after: 300,
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
        }
    }

    /// The ` InResponseTo="..."` attribute, and a signature template over `id` when
    /// `template`.
    fn irt_and_template(&self, id: &str, template: bool) -> (String, String) {
        let irt = self
            .in_response_to
            .as_ref()
            .map(|i| format!(r#" InResponseTo="{i}""#))
            .unwrap_or_default();
        let sig = if template {
            signature_template(id)
        } else {
            String::new()
        };
        (irt, sig)
    }

    /// The assertion, with a signature template when `template`.
    pub fn assertion(&self, template: bool) -> String {
        let (irt, sig) = self.irt_and_template(&self.assertion_id, template);
        format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" Version="2.0" IssueInstant="{now}"><saml:Issuer>{issuer}</saml:Issuer>{sig}<saml:Subject><saml:NameID Format="{name_id_format}">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{nooa}" Recipient="{acs}"{irt}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{nb}" NotOnOrAfter="{nooa}"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{now}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>{email}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="given_name"><saml:AttributeValue>{given}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="family_name"><saml:AttributeValue>{family}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#,
            aid = self.assertion_id,
            now = instant(0),
            issuer = self.issuer,
            name_id = self.name_id,
            name_id_format = self.name_id_format,
            nooa = instant(self.not_on_or_after),
            nb = instant(self.not_before),
            acs = self.recipient.as_deref().unwrap_or(&self.acs),
            aud = self.audience,
            email = self.email,
            given = self.given_name,
            family = self.family_name,
        )
    }

    /// A Response around `assertions` (already made, signed or not), with a signature
    /// template when `template`.
    pub fn response(&self, assertions: &str, template: bool) -> String {
        let (irt, sig) = self.irt_and_template(&self.response_id, template);
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0" IssueInstant="{now}" Destination="{acs}"{irt}><saml:Issuer>{issuer}</saml:Issuer>{sig}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>{assertions}</samlp:Response>"#,
            rid = self.response_id,
            now = instant(0),
            acs = self.acs,
            issuer = self.issuer,
            status = self.status,
        )
    }

    /// The usual shape: the assertion signed by `idp`, in an unsigned Response.
    pub fn signed_assertion_response(&self, idp: &TestIdp) -> String {
        self.response(&idp.sign(&self.assertion(true), "Assertion"), false)
    }
}

/// The form value of a SAMLResponse.
pub fn encode(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}
