//! A real SAML identity provider for tests: Debian's SimpleSAMLphp, served by `php -S` on a free
//! loopback port with its whole configuration in a temporary folder (the Debian install is not
//! touched), a signing key made with the `openssl` tool, and two people (`alice`, `bob`) in
//! its `exampleauth` module. A [`Browser`] drives its login page with plain HTTP, keeping
//! cookies and following redirects, up to the auto-posting form that carries the SAMLResponse.
//! Skipped with a note where SimpleSAMLphp is missing, unless `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::smtp::peers_required;

const SSP_WWW: &str = "/usr/share/simplesamlphp/www";
const SSP_CONFIG: &str = "/etc/simplesamlphp/config.php";

pub struct SimpleSamlPhp {
    child: Child,
    pub base: String,
    /// `SAML_ENTRY_POINT`: the single sign-on service.
    pub sso_url: String,
    /// The IdP's entity ID (`SAML_IDP_ISSUER`).
    pub entity_id: String,
    /// The IdP's signing certificate (`SAML_CERT`).
    pub cert_path: PathBuf,
    dir: tempfile::TempDir,
}

fn php_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl SimpleSamlPhp {
    /// Starts the IdP; `None` (after a note) when SimpleSAMLphp or PHP is not installed.
    pub fn start() -> Option<Self> {
        if !Path::new(SSP_WWW).exists() || Command::new("php").arg("-v").output().is_err() {
            assert!(
                !peers_required(),
                "SimpleSAMLphp is required (LIBRECHAT_REQUIRE_PEERS=1) but is not installed"
            );
            eprintln!(
                "skipped: SimpleSAMLphp is not installed (apt install simplesamlphp php-cli, or run .ci/run)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["config", "metadata", "cert", "tmp", "log", "data"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        super::self_signed(&d.join("cert"), "idp");

        std::fs::write(
            d.join("config/authsources.php"),
            "<?php\n$config = [\n  'admin' => ['core:AdminPassword'],\n  'example-userpass' => [\n    'exampleauth:UserPass',\n    'alice:alicepw' => ['uid' => ['alice'], 'email' => ['alice@example.org'], 'displayName' => ['Alice Example'], 'givenName' => ['Alice'], 'sn' => ['Example']],\n    'bob:bobpw' => ['uid' => ['bob'], 'email' => ['bob@example.org'], 'displayName' => ['Bob Builder']],\n  ],\n];\n",
        )
        .unwrap();
        let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..10 {
            let port = super::free_port();
            let base = format!("http://127.0.0.1:{port}");
            let entity_id = format!("{base}/saml2/idp/metadata.php");
            let dd = d.display();
            std::fs::write(
                d.join("config/config.php"),
                format!(
                    "<?php\nrequire '{SSP_CONFIG}';\n\
                     $config['baseurlpath'] = '{base}/';\n\
                     $config['certdir'] = '{dd}/cert/';\n\
                     $config['metadatadir'] = '{dd}/metadata/';\n\
                     $config['tempdir'] = '{dd}/tmp';\n\
                     $config['loggingdir'] = '{dd}/log/';\n\
                     $config['datadir'] = '{dd}/data/';\n\
                     $config['secretsalt'] = 'librechat-test-salt-0123456789';\n\
                     $config['auth.adminpassword'] = 'adminpw';\n\
                     $config['enable.saml20-idp'] = true;\n\
                     $config['module.enable']['exampleauth'] = true;\n\
                     $config['logging.handler'] = 'stderr';\n\
                     $config['session.cookie.secure'] = false;\n\
                     $config['session.cookie.samesite'] = 'Lax';\n\
                     $config['store.type'] = 'phpsession';\n\
                     $config['session.phpsession.savepath'] = '{dd}/tmp';\n"
                ),
            )
            .unwrap();
            std::fs::write(
                d.join("metadata/saml20-idp-hosted.php"),
                format!(
                    "<?php\n$metadata[{}] = [\n  'host' => '__DEFAULT__',\n  'privatekey' => 'idp.key',\n  'certificate' => 'idp.crt',\n  'auth' => 'example-userpass',\n  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',\n  'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',\n];\n",
                    php_str(&entity_id)
                ),
            )
            .unwrap();
            std::fs::write(d.join("metadata/saml20-sp-remote.php"), "<?php\n").unwrap();
            let mut child = Command::new("php")
                .args(["-S", &format!("127.0.0.1:{port}"), "-t", SSP_WWW])
                .env("SIMPLESAMLPHP_CONFIG_DIR", d.join("config"))
                .stdout(Stdio::null())
                .stderr(Stdio::from(
                    std::fs::File::create(d.join("log/php.log")).unwrap(),
                ))
                .spawn()
                .expect("spawn php");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(100));
                    if matches!(child.try_wait(), Ok(None)) {
                        return Some(Self {
                            child,
                            sso_url: format!("{base}/saml2/idp/SSOService.php"),
                            entity_id,
                            base,
                            cert_path: d.join("cert/idp.crt"),
                            dir,
                        });
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("SimpleSAMLphp did not start");
    }

    /// Registers a service provider (PHP reads the metadata on every request).
    pub fn register_sp(&self, entity_id: &str, acs: &str) {
        std::fs::write(
            self.dir.path().join("metadata/saml20-sp-remote.php"),
            format!(
                "<?php\n$metadata[{}] = [\n  'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => {}]],\n  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',\n  'simplesaml.nameidattribute' => 'email',\n];\n",
                php_str(entity_id),
                php_str(acs)
            ),
        )
        .unwrap();
    }

    /// Where a sign-in the IdP starts (IdP-initiated) begins; `relay_state` is what the IdP
    /// passes along (a portal's own value).
    pub fn idp_initiated_url(&self, sp_entity_id: &str, relay_state: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("spentityid", sp_entity_id);
        if let Some(r) = relay_state {
            q.append_pair("RelayState", r);
        }
        let q = q.finish();
        format!("{}?{q}", self.sso_url)
    }

    /// What PHP wrote to stderr, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/php.log")).unwrap_or_default()
    }
}

impl Drop for SimpleSamlPhp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The form the IdP's last page posts to the service provider.
#[derive(Debug, Clone)]
pub struct PostedForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl PostedForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Just enough of a browser for the IdP's pages: cookies by name, redirects followed.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: super::sso::no_redirects(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, mut req: reqwest::RequestBuilder) -> (String, String) {
        for _ in 0..10 {
            if !self.cookies.is_empty() {
                let jar: Vec<String> = self
                    .cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                req = req.header("cookie", jar.join("; "));
            }
            let resp = req.send().await.expect("the IdP answers");
            let url = resp.url().to_string();
            for c in resp.headers().get_all("set-cookie") {
                let pair = c.to_str().unwrap().split(';').next().unwrap();
                if let Some((k, v)) = pair.split_once('=') {
                    self.cookies.insert(k.trim().into(), v.trim().into());
                }
            }
            if resp.status().is_redirection() {
                let to = resp.headers()["location"].to_str().unwrap();
                let next = reqwest::Url::parse(&url).unwrap().join(to).unwrap();
                req = self.http.get(next);
                continue;
            }
            let body = resp.text().await.unwrap();
            return (url, body);
        }
        panic!("too many redirects at the IdP");
    }

    /// Opens `url` (an AuthnRequest redirect, or an IdP-initiated start), signs in as `user`,
    /// and returns the form the IdP would post to the service provider, or `None` when the
    /// IdP showed its login page again (a wrong password).
    pub async fn sign_in(&mut self, url: &str, user: &str, password: &str) -> Option<PostedForm> {
        let (page_url, page) = self.send(self.http.get(url)).await;
        if let Some(form) = auto_post_form(&page) {
            return Some(form); // already signed in at the IdP
        }
        let auth_state = hidden(&page, "AuthState").unwrap_or_else(|| {
            panic!(
                "no login form at {page_url}: {}",
                &page[..page.len().min(2000)]
            )
        });
        let action = reqwest::Url::parse(&page_url).unwrap();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("AuthState", &auth_state)
            .append_pair("username", user)
            .append_pair("password", password)
            .finish();
        let (_, page) = self
            .send(
                self.http
                    .post(action.as_str().split('?').next().unwrap())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;
        auto_post_form(&page)
    }
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the hidden input `name` in `page`.
fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = v + tag[v..].find('"')?;
    Some(unescape_html(&tag[v..end]))
}

/// SimpleSAMLphp's "post" page: a form with the SAMLResponse that scripts submit at once.
fn auto_post_form(page: &str) -> Option<PostedForm> {
    let response = hidden(page, "SAMLResponse")?;
    let form_at = page.find("<form")?;
    let a = form_at + page[form_at..].find("action=\"")? + 8;
    let action = unescape_html(&page[a..a + page[a..].find('"')?]);
    let mut fields = vec![("SAMLResponse".to_owned(), response)];
    if let Some(r) = hidden(page, "RelayState") {
        fields.push(("RelayState".into(), r));
    }
    Some(PostedForm { action, fields })
}
