//! `librechat mcp list|test NAME`: the MCP servers librechat.yaml configures, and whether one
//! answers (connected as the server connects to it for everyone, its tools listed).

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Env, Overrides, Settings};
use crate::mcp::probe;

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// List the configured MCP servers: name, transport, where, and how they are used
    List,
    /// Connect to one server, list its tools, and disconnect; exits 1 when it fails
    Test {
        /// The server's name in librechat.yaml's mcpServers
        name: String,
    },
}

pub fn run(env: Env, overrides: Overrides, cmd: McpCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "error").map_err(anyhow::Error::msg)?;
    let settings = Settings::load(&env, &overrides, false)?;
    let config = &settings.mcp;
    match cmd {
        McpCommand::List => {
            if config.servers.is_empty() {
                println!("no MCP servers are configured (mcpServers in librechat.yaml)");
            }
            for s in &config.servers {
                let mut how = vec![if s.startup { "startup" } else { "on first use" }];
                if crate::mcp::resolve::request_scoped(s) {
                    how.push("one connection per chat turn");
                } else if s.per_user() {
                    how.push("one connection per person");
                }
                if s.requires_oauth {
                    how.push("each person signs in");
                }
                if !s.chat_menu {
                    how.push("not in the chat menu");
                }
                println!(
                    "{}\t{}\t{}\t{}",
                    s.name,
                    s.transport.kind(),
                    probe::target(s),
                    how.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        McpCommand::Test { name } => {
            let Some(server) = config.get(&name) else {
                eprintln!("no MCP server named {name:?} in librechat.yaml");
                return Ok(ExitCode::FAILURE);
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let found = runtime.block_on(probe::probe(server, &probe::net(config)));
            match found {
                Ok(p) => {
                    println!(
                        "{name}: connected over {} in {} ms; {} tools{}",
                        server.transport.kind(),
                        p.took.as_millis(),
                        p.tools.len(),
                        if p.instructions {
                            "; it gives instructions"
                        } else {
                            ""
                        }
                    );
                    for t in &p.tools {
                        println!("  {}", crate::mcp::tool::key(t, &name));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    if server.per_user() {
                        eprintln!(
                            "(it takes each person's values or sign-in, which a test from here does not have)"
                        );
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
