//! Startup benchmark (not a test): `cargo bench --bench startup`.
//!
//! Prints the size of the release binary, the time from process start to the first `200 OK`
//! from `/health` (median and spread of 10 starts, each on an empty data folder), and the idle
//! resident memory once started. Targets: under 150 ms to healthy, under 25 MB idle RSS, under
//! 30 MB binary.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STARTS: usize = 10;

fn main() {
    let bin = env!("CARGO_BIN_EXE_librechat");
    let size = std::fs::metadata(bin).expect("binary").len();
    println!("binary: {bin}");
    println!("binary size: {:.1} MB ({size} bytes)", size as f64 / 1e6);

    let mut times = Vec::with_capacity(STARTS);
    let mut rss = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
            .current_dir(dir.path())
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        loop {
            if health_ok(port) {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("server did not become healthy within 30 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(started.elapsed());
        // Let start-up work settle, then read the resident set as an idle server holds it.
        std::thread::sleep(Duration::from_millis(500));
        rss.push(rss_kb(child.id()));
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
    times.sort();
    rss.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "start to healthy: median {:.1} ms (min {:.1}, max {:.1}) over {STARTS} starts",
        ms(times[STARTS / 2]),
        ms(times[0]),
        ms(times[STARTS - 1])
    );
    println!(
        "idle RSS: median {:.1} MB (min {:.1}, max {:.1})",
        rss[STARTS / 2] as f64 / 1024.0,
        rss[0] as f64 / 1024.0,
        rss[STARTS - 1] as f64 / 1024.0
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut resp = String::new();
    let _ = stream.read_to_string(&mut resp);
    resp.starts_with("HTTP/1.1 200")
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
