//! Header fields of a handshake head, and the small pieces of HTTP syntax
//! (tokens, comma-separated lists, field-value checks) both sides share.

use std::fmt;

use super::HandshakeError;

/// The header fields of a request or response head, in the order they were
/// received.
///
/// Names are compared ASCII case-insensitively, as HTTP requires. Values are
/// kept as raw bytes, since HTTP allows bytes that are not UTF-8 in them;
/// [`get_str`](Headers::get_str) is the convenience for the common case.
///
/// ```
/// use rfc6455::handshake::Headers;
///
/// let headers: Headers = [("Connection", "keep-alive, Upgrade"), ("X-A", "1"), ("x-a", "2")]
///     .into_iter()
///     .collect();
/// assert_eq!(headers.get("connection"), Some(&b"keep-alive, Upgrade"[..]));
/// assert!(headers.has_token("Connection", "upgrade"));
/// assert_eq!(headers.get_all("X-A").count(), 2);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Appends a field. Nothing is checked: this is a container, not an HTTP
    /// writer.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Number of fields, counting repeated names once per occurrence.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of the first field called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of the first field called `name`, if it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The values of every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// How many fields are called `name`.
    pub fn count(&self, name: &str) -> usize {
        self.entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every field as (name, value), in received order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The elements of the comma-separated lists in every field called
    /// `name`, trimmed, with empty elements skipped (the `#rule` of
    /// RFC 9110 §5.6.1).
    ///
    /// ```
    /// use rfc6455::handshake::Headers;
    ///
    /// let headers: Headers = [("Upgrade", "h2c , websocket"), ("Upgrade", ",x")].into_iter().collect();
    /// let items: Vec<&[u8]> = headers.list("upgrade").collect();
    /// assert_eq!(items, [&b"h2c"[..], b"websocket", b"x"]);
    /// ```
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name).flat_map(comma_list)
    }

    /// Whether the comma-separated lists of the fields called `name`
    /// contain `token`, compared ASCII case-insensitively.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name)
            .any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(n, v)| (n, String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl<N: Into<String>, V: Into<Vec<u8>>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (name, value) in iter {
            headers.push(name, value);
        }
        headers
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Vec<u8>)>,
        fn(&'a (String, Vec<u8>)) -> (&'a str, &'a [u8]),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// Splits a field value on commas, trimming optional whitespace around each
/// element and skipping empty elements. Quoted strings are not special here;
/// the extension parser handles those.
pub(crate) fn comma_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|item| !item.is_empty())
}

/// Strips spaces and horizontal tabs (HTTP's optional whitespace) from both
/// ends.
pub(crate) fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// Whether `b` may appear in an HTTP token (RFC 9110 §5.6.2 `tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty HTTP token.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `value` may be written as a field value without changing the
/// message's framing: no CR, LF, NUL or other control byte except
/// horizontal tab (RFC 9110 §5.5), and no leading or trailing whitespace.
pub(crate) fn is_field_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        && trim_ows(value) == value
}

/// Checks an application-supplied header against header injection and
/// against the names the handshake writes itself.
pub(crate) fn check_extra_header(
    name: &str,
    value: &str,
    reserved: &[&str],
) -> Result<(), HandshakeError> {
    if !is_token(name.as_bytes()) || !is_field_value(value.as_bytes()) {
        return Err(HandshakeError::InvalidHeader {
            name: name.escape_debug().to_string(),
        });
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(HandshakeError::ReservedHeader {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Appends `Name: value\r\n` to an output head.
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Headers {
        list.iter().map(|&(n, v)| (n, v)).collect()
    }

    #[test]
    fn lookups_ignore_name_case_and_keep_order() {
        let h = headers(&[("Host", "a"), ("X-Y", "1"), ("HOST", "b")]);
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("host"), Some(&b"a"[..]));
        assert_eq!(h.get_str("hOsT"), Some("a"));
        assert_eq!(h.get_all("host").collect::<Vec<_>>(), [b"a", b"b"]);
        assert_eq!(h.count("HOST"), 2);
        assert!(h.contains("x-y"));
        assert!(!h.contains("x-z"));
        let names: Vec<&str> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Host", "X-Y", "HOST"]);
        assert_eq!((&h).into_iter().count(), 3);
    }

    #[test]
    fn non_utf8_values_are_kept_as_bytes() {
        let mut h = Headers::new();
        h.push("X", vec![0xff, b'a']);
        assert_eq!(h.get("x"), Some(&[0xff, b'a'][..]));
        assert_eq!(h.get_str("x"), None);
        assert!(format!("{h:?}").contains("X"));
    }

    #[test]
    fn token_lists() {
        let h = headers(&[("Connection", "keep-alive, Upgrade")]);
        assert!(h.has_token("connection", "upgrade"));
        assert!(h.has_token("connection", "KEEP-ALIVE"));
        assert!(!h.has_token("connection", "close"));
        assert!(!h.has_token("upgrade", "websocket"));
        let h = headers(&[("Connection", "Upgradeish")]);
        assert!(!h.has_token("connection", "upgrade"));
        let h = headers(&[("Connection", " ,\t, close ,"), ("connection", "upgrade")]);
        assert_eq!(h.list("connection").count(), 2);
        assert!(h.has_token("connection", "upgrade"));
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
    }

    #[test]
    fn tokens_and_values() {
        assert!(is_token(b"permessage-deflate"));
        assert!(is_token(b"v1.stomp"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a,b"));
        assert!(!is_token(b"a\"b"));
        assert!(!is_token("é".as_bytes()));
        assert!(is_field_value(b"Bearer abc\tdef"));
        assert!(is_field_value(b""));
        assert!(!is_field_value(b"a\r\nX-Evil: 1"));
        assert!(!is_field_value(b"a\nb"));
        assert!(!is_field_value(b"a\0b"));
        assert!(!is_field_value(b" padded"));
    }

    #[test]
    fn extra_header_checks() {
        assert!(check_extra_header("X-A", "b", &["Upgrade"]).is_ok());
        assert_eq!(
            check_extra_header("X-A", "b\r\nEvil: 1", &[]),
            Err(HandshakeError::InvalidHeader { name: "X-A".into() })
        );
        assert!(matches!(
            check_extra_header("X A", "b", &[]),
            Err(HandshakeError::InvalidHeader { .. })
        ));
        assert!(matches!(
            check_extra_header("X\r\nA", "b", &[]),
            Err(HandshakeError::InvalidHeader { .. })
        ));
        assert_eq!(
            check_extra_header("upgrade", "x", &["Upgrade"]),
            Err(HandshakeError::ReservedHeader {
                name: "upgrade".into()
            })
        );
    }

    #[test]
    fn writing() {
        let mut out = Vec::new();
        write_header(&mut out, "Upgrade", b"websocket");
        assert_eq!(out, b"Upgrade: websocket\r\n");
    }
}
