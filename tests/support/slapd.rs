//! A real LDAP directory for tests: Debian's `slapd`, started from a self-contained
//! `slapd.conf` in a temporary folder on free loopback ports, with a test tree (people with
//! `uid`, `mail`, `cn`; groups with `member`, which the memberof overlay mirrors into each
//! person's `memberOf`), and optionally TLS from a throwaway CA (made with the `openssl` tool)
//! for StartTLS and ldaps. Skipped with a note where slapd is missing, unless
//! `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::smtp::peers_required;

pub const SUFFIX: &str = "dc=test,dc=local";
pub const ADMIN_DN: &str = "cn=admin,dc=test,dc=local";
pub const ADMIN_PW: &str = "adminpw";

pub struct Slapd {
    child: Child,
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    /// `ldaps://127.0.0.1:PORT`, when started with TLS.
    pub ldaps_url: Option<String>,
    /// The CA that signed the server's certificate, when started with TLS.
    pub ca_pem: Option<PathBuf>,
    dir: tempfile::TempDir,
}

const SLAPD: &str = "/usr/sbin/slapd";

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Slapd {
    /// Starts slapd (with TLS when `tls`); `None` (after a note) when slapd is not installed.
    pub fn start(tls: bool) -> Option<Self> {
        if !Path::new(SLAPD).exists() {
            assert!(
                !peers_required(),
                "slapd is required (LIBRECHAT_REQUIRE_PEERS=1) but {SLAPD} is missing"
            );
            eprintln!("skipped: slapd is not installed (apt install slapd, or run .ci/run)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let d = dir.path().display();
        let mut conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             include /etc/ldap/schema/nis.schema\n\
             pidfile {d}/slapd.pid\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             moduleload memberof\n"
        );
        if tls {
            super::ca_and_server_cert(dir.path());
            conf.push_str(&format!(
                "TLSCACertificateFile {d}/ca.pem\nTLSCertificateFile {d}/server.pem\nTLSCertificateKeyFile {d}/server.key\n"
            ));
        }
        conf.push_str(&format!(
            "database mdb\nmaxsize 104857600\nsuffix \"{SUFFIX}\"\nrootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PW}\ndirectory {d}/db\noverlay memberof\n"
        ));
        std::fs::write(dir.path().join("slapd.conf"), conf).unwrap();
        // One start at a time in this test binary (see `PEER_START`).
        let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..10 {
            let port = super::free_port();
            let tls_port = tls.then(super::free_port);
            let mut urls = format!("ldap://127.0.0.1:{port}/");
            if let Some(p) = tls_port {
                urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
            }
            let mut child = Command::new(SLAPD)
                .arg("-f")
                .arg(dir.path().join("slapd.conf"))
                .args(["-h", &urls, "-d", "0"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn slapd");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // a port was taken: try others
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() && {
                    // Still running: the port was really ours.
                    std::thread::sleep(Duration::from_millis(100));
                    matches!(child.try_wait(), Ok(None))
                } {
                    return Some(Self {
                        child,
                        url: format!("ldap://127.0.0.1:{port}"),
                        ldaps_url: tls_port.map(|p| format!("ldaps://127.0.0.1:{p}")),
                        ca_pem: tls.then(|| dir.path().join("ca.pem")),
                        dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("slapd did not start");
    }

    /// Adds the base, `ou=people`, and people: `(uid, mail, cn, password)`; a person without
    /// mail has an empty `mail`.
    pub async fn add_people(&self, people: &[(&str, &str, &str, &str)]) {
        use ldap3::LdapConnAsync;
        use std::collections::HashSet;
        let (conn, mut ldap) = LdapConnAsync::new(&self.url).await.unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ADMIN_DN, ADMIN_PW)
            .await
            .unwrap()
            .success()
            .unwrap();
        let attr = |name: &str, vals: &[&str]| {
            (
                name.to_owned(),
                vals.iter().map(|v| v.to_string()).collect::<HashSet<_>>(),
            )
        };
        ldap.add(
            SUFFIX,
            vec![
                attr("objectClass", &["dcObject", "organization"]),
                attr("dc", &["test"]),
                attr("o", &["Test"]),
            ],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
        ldap.add(
            &format!("ou=people,{SUFFIX}"),
            vec![
                attr("objectClass", &["organizationalUnit"]),
                attr("ou", &["people"]),
            ],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
        for (uid, mail, cn, pw) in people {
            let mut attrs = vec![
                attr("objectClass", &["inetOrgPerson"]),
                attr("uid", &[uid]),
                attr("cn", &[cn]),
                attr("sn", &[cn.split(' ').next_back().unwrap_or(cn)]),
                attr("userPassword", &[pw]),
            ];
            if !mail.is_empty() {
                attrs.push(attr("mail", &[mail]));
            }
            ldap.add(&format!("uid={uid},ou=people,{SUFFIX}"), attrs)
                .await
                .unwrap()
                .success()
                .unwrap();
        }
        let _ = ldap.unbind().await;
    }
}

impl Slapd {
    async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = ldap3::LdapConnAsync::new(&self.url).await.unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ADMIN_DN, ADMIN_PW)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }

    /// Adds `ou=groups` and `groupOfNames` groups: `(cn, member uids)` (at least one each).
    pub async fn add_groups(&self, groups: &[(&str, &[&str])]) {
        use std::collections::HashSet;
        let mut ldap = self.admin().await;
        let set = |vals: Vec<String>| vals.into_iter().collect::<HashSet<String>>();
        ldap.add(
            &format!("ou=groups,{SUFFIX}"),
            vec![
                (
                    "objectClass".to_owned(),
                    set(vec!["organizationalUnit".into()]),
                ),
                ("ou".to_owned(), set(vec!["groups".into()])),
            ],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
        for (cn, uids) in groups {
            let members = uids.iter().map(|u| person_dn(u)).collect();
            ldap.add(
                &format!("cn={cn},ou=groups,{SUFFIX}"),
                vec![
                    ("objectClass".to_owned(), set(vec!["groupOfNames".into()])),
                    ("cn".to_owned(), set(vec![cn.to_string()])),
                    ("member".to_owned(), set(members)),
                ],
            )
            .await
            .unwrap()
            .success()
            .unwrap();
        }
        let _ = ldap.unbind().await;
    }

    /// Sets the members of group `cn` to `uids` (at least one).
    pub async fn set_members(&self, cn: &str, uids: &[&str]) {
        use std::collections::HashSet;
        let mut ldap = self.admin().await;
        let members: HashSet<String> = uids.iter().map(|u| person_dn(u)).collect();
        ldap.modify(
            &format!("cn={cn},ou=groups,{SUFFIX}"),
            vec![ldap3::Mod::Replace("member".to_owned(), members)],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
        let _ = ldap.unbind().await;
    }
}

/// The DN of a person `add_people` made.
pub fn person_dn(uid: &str) -> String {
    format!("uid={uid},ou=people,{SUFFIX}")
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
