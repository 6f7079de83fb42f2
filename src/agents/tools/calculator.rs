//! LibreChat's `calculator` tool: evaluates a math expression (`{"input": "2 * (3 + 4)"}`)
//! and answers its value as JavaScript writes a number (`14`, `0.5`, `Infinity`).

use serde_json::Value;

use super::{Context, Manifest, Tool, ToolError, ToolFuture, math, text_input, text_input_def};
use crate::providers::ToolDef;

pub struct Calculator {
    def: ToolDef,
    manifest: Manifest,
}

impl Default for Calculator {
    fn default() -> Self {
        Self::new()
    }
}

impl Calculator {
    pub fn new() -> Self {
        Calculator {
            def: text_input_def(
                "calculator",
                "Evaluates a math expression and returns its value. Use it for any arithmetic \
                 instead of working it out yourself. Knows + - * / % ^ and ! (factorial), \
                 parentheses, pi, e, and sqrt, cbrt, abs, exp, log (natural, or log(x, base)), \
                 log2, log10, sin, cos, tan, asin, acos, atan, atan2 (radians), sinh, cosh, \
                 tanh, floor, ceil, round(x, digits), min, max, pow, mod, hypot.",
                "The expression, e.g. \"2 * (3 + 4) ^ 2\".",
            ),
            manifest: Manifest {
                name: "Calculator",
                plugin_key: "calculator",
                description: "Perform simple and complex mathematical calculations.",
                icon: Some("assets/calculator.svg"),
                auth: Vec::new(),
            },
        }
    }
}

impl Tool for Calculator {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn manifest(&self) -> Option<&Manifest> {
        Some(&self.manifest)
    }

    fn call<'a>(&'a self, args: Value, _cx: &'a Context) -> ToolFuture<'a> {
        // Bounded (see `math`): microseconds, so it runs right here.
        let input = text_input(&args);
        Box::pin(async move {
            math::eval(&input)
                .map(math::format)
                .map_err(|e| ToolError(format!("cannot evaluate \"{}\": {e}", clip(&input))))
        })
    }
}

/// The start of an expression, to quote it in an error.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn evaluates_or_says_why_not() {
        let c = Calculator::new();
        let cx = Context::default();
        assert_eq!(
            c.call(json!({"input": "6 * 7"}), &cx).await,
            Ok("42".into())
        );
        let err = c.call(json!({"input": "6 *"}), &cx).await.unwrap_err();
        assert_eq!(
            err.0,
            "cannot evaluate \"6 *\": the expression ends too soon"
        );
        let long = "1+".repeat(6_000);
        let err = c.call(json!({ "input": long }), &cx).await.unwrap_err();
        assert!(err.0.len() < 200, "the error does not repeat the input");
        assert_eq!(c.def().name, "calculator");
    }
}
