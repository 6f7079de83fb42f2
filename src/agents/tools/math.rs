//! A small evaluator of arithmetic expressions for the calculator: numbers (`2`, `1.5e3`),
//! `+ - * / % ^` (`**` too; `^` binds right and tighter than a sign, so `-2^2` is -4), `!`
//! (factorial), parentheses, the constants `pi`, `e`, `tau`, `phi`, and the functions listed in
//! [`call`]. Angles are radians. Numbers are 64-bit floats, as in JavaScript: what overflows is
//! `Infinity`, `0/0` is `NaN`.
//!
//! Written here because no maintained crate fits: the expression crates either stopped being
//! maintained years ago or are whole languages (variables, strings, assignment), more than a
//! calculator needs and more to audit. Every input is bounded: its length, its nesting, and
//! no operation loops on a number's size.

/// Longer input is refused: no real calculation is this long.
pub const MAX_INPUT: usize = 10_000;
/// Deeper nesting (parentheses, signs, arguments) is refused, long before the stack is at risk.
const MAX_DEPTH: usize = 100;

/// Evaluates `input`; `Err` says what is wrong with it.
pub fn eval(input: &str) -> Result<f64, String> {
    if input.len() > MAX_INPUT {
        return Err(format!(
            "the expression is longer than {MAX_INPUT} characters"
        ));
    }
    let mut p = Parser {
        s: input.as_bytes(),
        at: 0,
        depth: 0,
    };
    let v = p.expr()?;
    p.skip_space();
    if p.at < p.s.len() {
        return Err(format!("unexpected \"{}\"", p.rest()));
    }
    Ok(v)
}

/// `v` as JavaScript's `Number.prototype.toString` writes it (what LibreChat's calculator
/// answers): `2`, `0.5`, `1e+21`, `Infinity`, `NaN`.
pub fn format(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-6..1e21).contains(&a) {
        return format!("{v}");
    }
    // Rust's shortest form with an exponent, in JavaScript's spelling (`e+21`, `e-7`).
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
        _ => s,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.at..])
            .chars()
            .take(20)
            .collect()
    }

    fn skip_space(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the expression nests deeper than {MAX_DEPTH} levels"
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<f64, String> {
        let mut v = self.term()?;
        loop {
            if self.eat(b'+') {
                v += self.term()?;
            } else if self.eat(b'-') {
                v -= self.term()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn term(&mut self) -> Result<f64, String> {
        let mut v = self.unary()?;
        loop {
            if self.peek() == Some(b'*') && self.s.get(self.at + 1) != Some(&b'*') {
                self.at += 1;
                v *= self.unary()?;
            } else if self.eat(b'/') {
                v /= self.unary()?;
            } else if self.eat(b'%') {
                // JavaScript's remainder: the sign of the dividend.
                v %= self.unary()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn unary(&mut self) -> Result<f64, String> {
        self.enter()?;
        let v = if self.eat(b'-') {
            -self.unary()?
        } else if self.eat(b'+') {
            self.unary()?
        } else {
            self.power()?
        };
        self.depth -= 1;
        Ok(v)
    }

    fn power(&mut self) -> Result<f64, String> {
        let base = self.postfix()?;
        let caret = self.eat(b'^');
        let stars = !caret && self.peek() == Some(b'*') && self.s.get(self.at + 1) == Some(&b'*');
        if stars {
            self.at += 2;
        }
        if caret || stars {
            // Right-associative, and the exponent may carry a sign: 2^-1, 2^3^2.
            let exp = self.unary()?;
            return Ok(base.powf(exp));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<f64, String> {
        let mut v = self.primary()?;
        while self.peek() == Some(b'!') && self.s.get(self.at + 1) != Some(&b'=') {
            self.at += 1;
            v = factorial(v)?;
        }
        Ok(v)
    }

    fn primary(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(b'(') => {
                self.at += 1;
                self.enter()?;
                let v = self.expr()?;
                self.depth -= 1;
                if !self.eat(b')') {
                    return Err("a \"(\" is not closed".into());
                }
                Ok(v)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.at;
                while self.at < self.s.len()
                    && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_')
                {
                    self.at += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.at])
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if self.eat(b'(') {
                    let args = self.args()?;
                    return call(&name, &args);
                }
                constant(&name).ok_or_else(|| format!("unknown name \"{name}\""))
            }
            Some(_) => Err(format!("unexpected \"{}\"", self.rest())),
            None => Err("the expression ends too soon".into()),
        }
    }

    fn args(&mut self) -> Result<Vec<f64>, String> {
        self.enter()?;
        let mut args = Vec::new();
        if !self.eat(b')') {
            loop {
                args.push(self.expr()?);
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b')') {
                    break;
                }
                return Err("a function's arguments are not closed with \")\"".into());
            }
        }
        self.depth -= 1;
        Ok(args)
    }

    fn number(&mut self) -> Result<f64, String> {
        let start = self.at;
        let digits = |p: &mut Self| {
            while p.at < p.s.len() && (p.s[p.at].is_ascii_digit() || p.s[p.at] == b'_') {
                p.at += 1;
            }
        };
        digits(self);
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self);
        }
        if matches!(self.s.get(self.at), Some(b'e' | b'E'))
            && (self.s.get(self.at + 1).is_some_and(u8::is_ascii_digit)
                || (matches!(self.s.get(self.at + 1), Some(b'+' | b'-'))
                    && self.s.get(self.at + 2).is_some_and(u8::is_ascii_digit)))
        {
            self.at += 2;
            digits(self);
        }
        let text: String = std::str::from_utf8(&self.s[start..self.at])
            .unwrap_or_default()
            .replace('_', "");
        text.parse::<f64>()
            .map_err(|_| format!("\"{text}\" is not a number"))
    }
}

fn constant(name: &str) -> Option<f64> {
    use std::f64::consts;
    Some(match name {
        "pi" => consts::PI,
        "e" => consts::E,
        "tau" => consts::TAU,
        "phi" => (1.0 + 5f64.sqrt()) / 2.0,
        "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => return None,
    })
}

/// `n!` for a whole `n` ≥ 0: exact up to 170!, `Infinity` past it (without counting up to a
/// huge `n`).
fn factorial(n: f64) -> Result<f64, String> {
    if n < 0.0 || n.fract() != 0.0 {
        return Err("the factorial is defined here for whole numbers from 0 up".into());
    }
    if n > 170.0 {
        return Ok(f64::INFINITY);
    }
    Ok((2..=n as u32).fold(1.0, |acc, k| acc * f64::from(k)))
}

fn call(name: &str, args: &[f64]) -> Result<f64, String> {
    let one = |f: fn(f64) -> f64| match args {
        [x] => Ok(f(*x)),
        _ => Err(format!("{name}() takes one argument")),
    };
    let two = |f: fn(f64, f64) -> f64| match args {
        [x, y] => Ok(f(*x, *y)),
        _ => Err(format!("{name}() takes two arguments")),
    };
    match name {
        "sqrt" => one(f64::sqrt),
        "cbrt" => one(f64::cbrt),
        "abs" => one(f64::abs),
        "exp" => one(f64::exp),
        "ln" => one(f64::ln),
        "log" => match args {
            [x] => Ok(x.ln()),
            [x, base] => Ok(x.ln() / base.ln()),
            _ => Err("log() takes one or two arguments".into()),
        },
        "log2" => one(f64::log2),
        "log10" => one(f64::log10),
        "sin" => one(f64::sin),
        "cos" => one(f64::cos),
        "tan" => one(f64::tan),
        "asin" => one(f64::asin),
        "acos" => one(f64::acos),
        "atan" => one(f64::atan),
        "sinh" => one(f64::sinh),
        "cosh" => one(f64::cosh),
        "tanh" => one(f64::tanh),
        "atan2" => two(f64::atan2),
        "floor" => one(f64::floor),
        "ceil" => one(f64::ceil),
        "sign" => one(|x| if x == 0.0 { 0.0 } else { x.signum() }),
        "round" => match args {
            [x] => Ok(x.round()),
            [x, digits] if (0.0..=15.0).contains(digits) => {
                let m = 10f64.powi(*digits as i32);
                Ok((x * m).round() / m)
            }
            _ => Err("round() takes a number and 0 to 15 digits".into()),
        },
        "pow" => two(f64::powf),
        "mod" => two(|x, y| x % y),
        "hypot" => two(f64::hypot),
        "factorial" => match args {
            [x] => factorial(*x),
            _ => Err("factorial() takes one argument".into()),
        },
        "min" | "max" if args.is_empty() => Err(format!("{name}() needs an argument")),
        "min" => Ok(args.iter().copied().fold(f64::INFINITY, f64::min)),
        "max" => Ok(args.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        _ => Err(format!("unknown function \"{name}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(s: &str) -> String {
        match eval(s) {
            Ok(v) => format(v),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn arithmetic_as_a_calculator_does_it() {
        for (input, want) in [
            ("1 + 2 * 3", "7"),
            ("(1 + 2) * 3", "9"),
            ("2^10", "1024"),
            ("2**10", "1024"),
            ("2^3^2", "512"),
            ("-2^2", "-4"),
            ("2^-1", "0.5"),
            ("10 / 4", "2.5"),
            ("-7 % 3", "-1"),
            ("5!", "120"),
            ("3!!", "720"),
            ("0.1 + 0.2", "0.30000000000000004"),
            ("1.5e3 + 1_000", "2500"),
            ("sqrt(16) + abs(-2)", "6"),
            ("round(pi, 2)", "3.14"),
            ("max(1, 5, 3) - min(4, 2)", "3"),
            ("log(8, 2)", "3"),
            ("log10(1000)", "3"),
            ("sin(0) + cos(0)", "1"),
            ("1/0", "Infinity"),
            ("0/0", "NaN"),
            ("1e21", "1e+21"),
            ("1e-7", "1e-7"),
            ("0.000001", "0.000001"),
            ("  12 * (3 + 4)  ", "84"),
            ("PI * 0", "0"),
        ] {
            assert_eq!(calc(input), want, "{input}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (input, want) in [
            ("", "error: the expression ends too soon"),
            ("1 +", "error: the expression ends too soon"),
            ("(1 + 2", "error: a \"(\" is not closed"),
            ("1 2", "error: unexpected \"2\""),
            ("foo + 1", "error: unknown name \"foo\""),
            ("bar(1)", "error: unknown function \"bar\""),
            ("sqrt(1, 2)", "error: sqrt() takes one argument"),
            (
                "(-1)!",
                "error: the factorial is defined here for whole numbers from 0 up",
            ),
            ("1 ; drop table", "error: unexpected \"; drop table\""),
        ] {
            assert_eq!(calc(input), want, "{input}");
        }
    }

    #[test]
    fn hostile_input_is_bounded() {
        // Deep nesting: refused, not a stack overflow.
        for deep in [
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1", "-".repeat(5_000)),
            format!("{}1{}", "sqrt(".repeat(3_000), ")".repeat(3_000)),
        ] {
            let deep = &deep[..deep.len().min(MAX_INPUT)];
            assert!(calc(deep).starts_with("error:"), "{}", calc(deep));
        }
        assert!(calc(&"1+".repeat(10_000)).contains("longer than"));
        // Huge numbers overflow to Infinity at once, without looping on their size.
        assert_eq!(calc("99999999999!"), "Infinity");
        assert_eq!(calc("10^400"), "Infinity");
        assert_eq!(calc("9".repeat(400).as_str()), "Infinity");
        assert_eq!(calc("170!"), "7.257415615307994e+306");
        // A long but flat expression is fine.
        let long = vec!["1"; 4_000].join("+");
        assert_eq!(calc(&long), "4000");
    }
}
