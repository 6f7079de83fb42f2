//! The email texts. `{{key}}` is replaced by a value; in the HTML part values are escaped.

/// One kind of email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `link`: where to verify the address.
    VerifyEmail,
    /// `link`: where to choose a new password.
    PasswordResetRequest,
    /// Confirms that the password was changed.
    PasswordResetDone,
    /// `link`: where to register.
    Invite,
}

impl Template {
    pub fn name(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordResetRequest => "password_reset_request",
            Self::PasswordResetDone => "password_reset_done",
            Self::Invite => "invite",
        }
    }

    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::VerifyEmail => (
                "Verify your email for {{app}}",
                include_str!("templates/verify_email.txt"),
                include_str!("templates/verify_email.html"),
            ),
            Self::PasswordResetRequest => (
                "Reset your {{app}} password",
                include_str!("templates/password_reset_request.txt"),
                include_str!("templates/password_reset_request.html"),
            ),
            Self::PasswordResetDone => (
                "Your {{app}} password was changed",
                include_str!("templates/password_reset_done.txt"),
                include_str!("templates/password_reset_done.html"),
            ),
            Self::Invite => (
                "You are invited to {{app}}",
                include_str!("templates/invite.txt"),
                include_str!("templates/invite.html"),
            ),
        }
    }

    /// `(subject, text, html)`.
    pub fn render(self, values: &[(&str, &str)]) -> (String, String, String) {
        let (subject, text, html) = self.parts();
        (
            fill(subject, values, false).replace(['\r', '\n'], " "),
            fill(text, values, false),
            fill(html, values, true),
        )
    }
}

fn fill(template: &str, values: &[(&str, &str)], escape: bool) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        let value = if escape {
            escape_html(value)
        } else {
            (*value).to_owned()
        };
        out = out.replace(&format!("{{{{{key}}}}}"), &value);
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_in_and_html_is_escaped() {
        let (subject, text, html) = Template::VerifyEmail.render(&[
            ("app", "Chat"),
            ("name", "<b>Mallory</b>"),
            ("link", "https://x.org/verify?token=abc&email=a%40b.c"),
        ]);
        assert_eq!(subject, "Verify your email for Chat");
        assert!(text.contains("https://x.org/verify?token=abc&email=a%40b.c"));
        assert!(text.contains("<b>Mallory</b>"), "plain text stays as is");
        assert!(html.contains("&lt;b&gt;Mallory&lt;/b&gt;") && !html.contains("<b>Mallory"));
        assert!(html.contains("token=abc&amp;email"));
        for t in [
            Template::PasswordResetRequest,
            Template::PasswordResetDone,
            Template::Invite,
        ] {
            let (s, text, html) = t.render(&[("app", "Chat"), ("name", "A"), ("link", "L")]);
            assert!(
                !s.contains("{{") && !text.contains("{{") && !html.contains("{{"),
                "{t:?}"
            );
        }
    }
}
