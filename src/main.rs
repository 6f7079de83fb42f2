//! The `librechat` command: parse the command line, dispatch. Errors end as one line on stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    match librechat::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("librechat: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
