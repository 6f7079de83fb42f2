//! Accounts benchmark (not a test): `cargo bench --bench auth`.
//!
//! Prints the argon2id hashing time, the latency of `POST /api/auth/login` against the release
//! server (median of 30 logins), and, when `wrk` is installed (Debian package `wrk`), requests
//! per second of an authenticated `GET /api/user` (target: over 20,000/s on 2 cores).

mod common;

use common::{request, start_server};

use std::process::Command;
use std::time::Instant;

fn main() {
    let started = Instant::now();
    for _ in 0..10 {
        librechat::auth::password::hash("benchmark password");
    }
    println!(
        "argon2id hash (m=19 MiB, t=6, p=1): {:.1} ms each",
        started.elapsed().as_secs_f64() * 100.0
    );

    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path(), &[("LOGIN_MAX", "100000")]);
    let pw = "benchmark password";
    let body = format!(
        r#"{{"name":"Bench","email":"bench@example.org","password":"{pw}","confirm_password":"{pw}"}}"#
    );
    request(port, "POST", "/api/auth/register", None, &body).unwrap();
    let login = format!(r#"{{"email":"bench@example.org","password":"{pw}"}}"#);
    let mut times = Vec::new();
    let mut token = String::new();
    for _ in 0..30 {
        let t = Instant::now();
        let resp = request(port, "POST", "/api/auth/login", None, &login).unwrap();
        times.push(t.elapsed());
        token = resp
            .split(r#""token":""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
    }
    times.sort();
    println!(
        "login latency: median {:.1} ms (min {:.1}, max {:.1}) over 30 logins",
        times[15].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[29].as_secs_f64() * 1000.0
    );
    for (what, body) in [
        (
            "unknown email",
            r#"{"email":"nobody@example.org","password":"benchmark password"}"#,
        ),
        (
            "wrong password",
            r#"{"email":"bench@example.org","password":"not the password"}"#,
        ),
    ] {
        let t = Instant::now();
        for _ in 0..30 {
            request(port, "POST", "/api/auth/login", None, body).unwrap();
        }
        println!(
            "refused login, {what}: mean {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0 / 30.0
        );
    }

    match Command::new("wrk")
        .args(["-t2", "-c64", "-d10s", "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("http://127.0.0.1:{port}/api/user"))
        .output()
    {
        Ok(out) => println!(
            "wrk GET /api/user:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => println!("wrk not installed: skipped the GET /api/user throughput run"),
    }
    let _ = server.kill();
    let _ = server.wait();
}
