//! The `Sec-WebSocket-Extensions` header: parsing into names and
//! parameters, and writing back.

use std::fmt;

use super::HandshakeError;
use super::headers::{is_tchar, is_token};

/// One entry of a `Sec-WebSocket-Extensions` header: an extension offered
/// by a client, or one accepted by a server, with its parameters.
///
/// Parameters keep their order. A parameter written without a value
/// (`client_max_window_bits`) has `None`; a quoted value is unquoted.
///
/// ```
/// use rfc6455::handshake::parse_extensions;
///
/// let offers = parse_extensions(b"permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", x-foo")?;
/// assert_eq!(offers.len(), 2);
/// assert_eq!(offers[0].name, "permessage-deflate");
/// assert_eq!(offers[0].param("client_max_window_bits"), Some(None));
/// assert_eq!(offers[0].param("server_max_window_bits"), Some(Some("10")));
/// assert_eq!(offers[0].to_string(), "permessage-deflate; client_max_window_bits; server_max_window_bits=10");
/// assert_eq!(offers[1].name, "x-foo");
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtensionOffer {
    /// The extension's registered token, e.g. `permessage-deflate`.
    pub name: String,
    /// The parameters, in order: name and optional value.
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionOffer {
    /// An entry with no parameters.
    pub fn new(name: impl Into<String>) -> Self {
        ExtensionOffer {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// The first parameter called `name` (ASCII case-insensitive):
    /// `None` if absent, `Some(None)` if present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

/// Writes the entry in header syntax: `name; param; param=value`. Values
/// are tokens (RFC 6455 §9.1), so they never need quotes.
impl fmt::Display for ExtensionOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            write!(f, "; {name}")?;
            if let Some(value) = value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// Parses one `Sec-WebSocket-Extensions` field value (RFC 6455 §9.1):
///
/// ```text
/// extension-list = 1#extension
/// extension      = extension-token *( ";" extension-param )
/// extension-param = token [ "=" (token | quoted-string) ]
/// ```
///
/// Empty list elements are skipped, as HTTP's `#rule` allows. Any other
/// deviation from the grammar is
/// [`HandshakeError::MalformedExtensions`].
pub fn parse_extensions(value: &[u8]) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    let mut parser = Parser {
        input: value,
        pos: 0,
    };
    let mut out = Vec::new();
    parser
        .parse_list(&mut out)
        .map_err(|()| HandshakeError::MalformedExtensions)?;
    Ok(out)
}

/// Parses every value of a list of fields, concatenating the entries.
pub(crate) fn parse_extension_fields<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    let mut out = Vec::new();
    for value in values {
        out.extend(parse_extensions(value)?);
    }
    Ok(out)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn token(&mut self) -> Result<String, ()> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        let token = self.input.get(start..self.pos).ok_or(())?;
        if token.is_empty() {
            return Err(());
        }
        // Tokens are ASCII, so this cannot fail.
        String::from_utf8(token.to_vec()).map_err(|_| ())
    }

    /// A quoted-string (RFC 9110 §5.6.4), unescaped. RFC 6455 §9.1: "When
    /// using the quoted-string syntax variant, the value after
    /// quoted-string unescaping MUST conform to the 'token' ABNF."
    fn quoted(&mut self) -> Result<String, ()> {
        let mut value = Vec::new();
        loop {
            let b = self.peek().ok_or(())?;
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    value.push(self.peek().ok_or(())?);
                    self.pos += 1;
                }
                _ => value.push(b),
            }
        }
        if !is_token(&value) {
            return Err(());
        }
        String::from_utf8(value).map_err(|_| ())
    }

    fn parse_list(&mut self, out: &mut Vec<ExtensionOffer>) -> Result<(), ()> {
        loop {
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            let mut offer = ExtensionOffer::new(self.token()?);
            loop {
                self.skip_ows();
                if !self.eat(b';') {
                    break;
                }
                self.skip_ows();
                let name = self.token()?;
                self.skip_ows();
                let value = if self.eat(b'=') {
                    self.skip_ows();
                    if self.eat(b'"') {
                        Some(self.quoted()?)
                    } else {
                        Some(self.token()?)
                    }
                } else {
                    None
                };
                offer.params.push((name, value));
            }
            out.push(offer);
            match self.peek() {
                None => return Ok(()),
                Some(b',') => self.pos += 1,
                Some(_) => return Err(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<ExtensionOffer>, HandshakeError> {
        parse_extensions(s.as_bytes())
    }

    #[test]
    fn names_and_params() {
        let list = parse("foo, bar; baz=2;qux , x; y=\"z\"").unwrap();
        assert_eq!(
            list,
            [
                ExtensionOffer::new("foo"),
                ExtensionOffer {
                    name: "bar".into(),
                    params: vec![("baz".into(), Some("2".into())), ("qux".into(), None)],
                },
                ExtensionOffer {
                    name: "x".into(),
                    params: vec![("y".into(), Some("z".into()))],
                },
            ]
        );
    }

    #[test]
    fn quoted_values_are_unescaped() {
        let list = parse(r#"a; b="1\0""#).unwrap();
        assert_eq!(list[0].param("B"), Some(Some("10")));
        // A quoted comma or semicolon does not split anything, but it is
        // not a token once unquoted, so the header is malformed.
        assert!(parse(r#"a; b=",", c"#).is_err());
        assert!(parse(r#"a; b="x;y""#).is_err());
    }

    #[test]
    fn whitespace_and_empty_elements() {
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse(" , ,").unwrap(), []);
        let list = parse("\ta ;\tb = 1 ,, c").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].param("b"), Some(Some("1")));
    }

    #[test]
    fn malformed() {
        for bad in [
            "a;",
            "a; =1",
            "a; b=",
            "a; b=\"unterminated",
            "a; b=\"\"",
            "a b",
            ";a",
            "a; b=1 2",
            "a; b=\"1\"x",
            "é",
        ] {
            assert_eq!(
                parse(bad),
                Err(HandshakeError::MalformedExtensions),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        let text = "permessage-deflate; client_max_window_bits; server_max_window_bits=10";
        let list = parse(text).unwrap();
        assert_eq!(list[0].to_string(), text);
        assert_eq!(parse(&list[0].to_string()).unwrap(), list);
    }

    #[test]
    fn several_fields() {
        let list = parse_extension_fields([&b"a"[..], b"b; c", b""].into_iter()).unwrap();
        assert_eq!(list.len(), 2);
        assert!(parse_extension_fields([&b"a;"[..]].into_iter()).is_err());
    }
}
