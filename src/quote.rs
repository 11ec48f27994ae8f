//! Quoting untrusted text for messages: tokens from the input, arguments and paths.
//!
//! Invariant: what these functions return holds no control character and no invisible
//! one, whatever the bytes given (`shown` is given a name that `format::name` has let
//! through, printable already), so input can never reach the terminal raw; a quoted
//! token is at most `SHOWN` characters of the original, and an escaped path at most
//! `PATH_SHOWN`, so their size is bounded too.

use std::fmt::Write;

/// How many characters of a token a message shows.
pub const SHOWN: usize = 40;

/// How many characters of a path a message shows.
pub const PATH_SHOWN: usize = 120;

/// `token` in single quotes, escaped, cut after `SHOWN` characters (an invalid byte counts
/// as one) with its full size in bytes: `'abc'... (100000 bytes)`, `abc` its first 40.
pub fn quote(token: &[u8]) -> String {
    let mut text = String::from("'");
    if escape_into(&mut text, token, SHOWN) {
        text.push('\'');
    } else {
        let _ = write!(text, "'... ({} bytes)", token.len());
    }
    text
}

/// A stream's name as the notes after a run show it, unquoted (a name is printable, as
/// `format::name` checks): cut after `SHOWN` characters with its full size in bytes, as
/// `quote` cuts: `abc... (100000 bytes)`.
pub fn shown(name: &str) -> String {
    match name.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}... ({} bytes)", &name[..cut], name.len()),
        None => name.to_string(),
    }
}

/// A stream's name as a hint shows it, for the user to type: as it is if `quote` would
/// show it whole and a shell takes it as it is (letters, digits and `_-.,:@%+/`), else
/// `NAME`: a hint is never text to paste that a shell would read otherwise.
pub fn hint(name: &[u8]) -> &str {
    let plain = |c: char| c.is_alphanumeric() || "_-.,:@%+/".contains(c);
    match std::str::from_utf8(name) {
        Ok(text) if text.chars().count() <= SHOWN && text.chars().all(plain) => text,
        _ => "NAME",
    }
}

/// `text` escaped, without quotes, cut after `PATH_SHOWN` characters (an invalid byte
/// counts as one) with its full size in bytes: for paths, `abc... (5000 bytes)`.
pub fn escape(text: &[u8]) -> String {
    let mut escaped = String::new();
    if !escape_into(&mut escaped, text, PATH_SHOWN) {
        let _ = write!(escaped, "... ({} bytes)", text.len());
    }
    escaped
}

/// Appends at most `most` characters of `text`, escaped; false if it had more.
fn escape_into(out: &mut String, text: &[u8], most: usize) -> bool {
    let mut shown = 0;
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown == most {
                return false;
            }
            shown += 1;
            match c {
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\\' | '\'' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02X}", c as u32);
                }
                c if !printable(c) => {
                    let _ = write!(out, "\\u{{{:04X}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            if shown == most {
                return false;
            }
            shown += 1;
            let _ = write!(out, "\\x{byte:02X}");
        }
    }
    true
}

/// Whether `c` shows as itself: not a control character (C0, DEL, C1), not white space
/// other than the ASCII space, not a format character (Unicode's Cf: zero-width and
/// direction marks, and the like), and not invisible (see `invisible`).
pub fn printable(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || format(c) || invisible(c))
}

/// Unicode's format characters (general category Cf).
fn format(c: char) -> bool {
    const CF: [(u32, u32); 21] = [
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    within(&CF, c)
}

/// Characters that print as nothing: Unicode's Default_Ignorable_Code_Point set (variation
/// selectors, the Hangul fillers, tags, and the like), and the blank braille pattern.
fn invisible(c: char) -> bool {
    const IGNORABLE: [(u32, u32); 17] = [
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];
    const BLANK: char = '\u{2800}'; // BRAILLE PATTERN BLANK
    c == BLANK || within(&IGNORABLE, c)
}

/// Whether `c` is in one of `ranges`, each inclusive.
fn within(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    ranges.iter().any(|&(low, high)| (low..=high).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_quoted_as_it_is() {
        assert_eq!(quote(b"x"), "'x'");
        assert_eq!(quote("température 20°".as_bytes()), "'température 20°'");
    }

    #[test]
    fn controls_quotes_and_invalid_bytes_are_escaped() {
        assert_eq!(
            quote(b"\x1b]0;PWNED\x07\x1b[2J"),
            "'\\x1B]0;PWNED\\x07\\x1B[2J'"
        );
        assert_eq!(quote(b"a\0b\tc\nd\re\x7f"), "'a\\x00b\\tc\\nd\\re\\x7F'");
        // A NUL as any other control byte: `\07` would read as C's octal escape of BEL.
        assert_eq!(quote(b"2\x007"), "'2\\x007'");
        assert_eq!(quote(b"it's a\\b"), "'it\\'s a\\\\b'");
        assert_eq!(quote(b"\xff\xc3"), "'\\xFF\\xC3'");
    }

    #[test]
    fn a_name_in_the_notes_is_shown_whole_up_to_the_cut() {
        let name = "é".repeat(SHOWN);
        assert_eq!(shown(&name), name);
        let long = format!("{name}x");
        assert_eq!(shown(&long), format!("{name}... ({} bytes)", long.len()));
    }

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(
            quote("a\u{200B}b\u{202E}c\u{A0}d\u{85}e\u{FEFF}".as_bytes()),
            "'a\\u{200B}b\\u{202E}c\\u{00A0}d\\u{0085}e\\u{FEFF}'"
        );
    }

    /// Unicode's Default_Ignorable_Code_Point set and the blank braille pattern, as listed
    /// in the issue, independently of the tables above.
    const INVISIBLE: [(u32, u32); 18] = [
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x2800, 0x2800),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];

    #[test]
    fn every_default_ignorable_and_blank_character_is_escaped() {
        for &(low, high) in &INVISIBLE {
            for code in low..=high {
                let c = char::from_u32(code).unwrap();
                assert!(!printable(c), "U+{code:04X}");
                let text = format!("a{c}b");
                assert_eq!(quote(text.as_bytes()), format!("'a\\u{{{code:04X}}}b'"));
            }
        }
    }

    #[test]
    fn the_neighbours_of_invisible_characters_show_as_themselves() {
        for c in [
            '\u{00AC}',  // NOT SIGN
            '\u{00AE}',  // REGISTERED SIGN
            '\u{034E}',  // COMBINING UPWARDS ARROW BELOW
            '\u{0350}',  // COMBINING RIGHT ARROWHEAD ABOVE
            '\u{115E}',  // HANGUL CHOSEONG KIYEOK-RIEUL
            '\u{1161}',  // HANGUL JUNGSEONG A
            '\u{17B3}',  // KHMER INDEPENDENT VOWEL QAU
            '\u{17B6}',  // KHMER VOWEL SIGN AA
            '\u{180A}',  // MONGOLIAN NIRUGU
            '\u{1810}',  // MONGOLIAN DIGIT ZERO
            '\u{27FF}',  // LONG RIGHTWARDS SQUIGGLE ARROW
            '\u{2801}',  // BRAILLE PATTERN DOTS-1
            '\u{3163}',  // HANGUL LETTER I
            '\u{3165}',  // HANGUL LETTER SSANGNIEUN
            '\u{FE10}',  // PRESENTATION FORM FOR VERTICAL COMMA
            '\u{FF9F}',  // HALFWIDTH KATAKANA SEMI-VOICED SOUND MARK
            '\u{FFA1}',  // HALFWIDTH HANGUL LETTER KIYEOK
            '\u{FFFC}',  // OBJECT REPLACEMENT CHARACTER
            '\u{1BC9F}', // DUPLOYAN PUNCTUATION CHINOOK FULL STOP
            '\u{1D172}', // MUSICAL SYMBOL COMBINING FLAG-5
            '\u{1D17B}', // MUSICAL SYMBOL COMBINING ACCENT
        ] {
            assert!(printable(c), "U+{:04X}", c as u32);
            let text = format!("a{c}b");
            assert_eq!(quote(text.as_bytes()), format!("'{text}'"));
        }
    }

    #[test]
    fn long_tokens_are_cut_and_sized() {
        let long = "é".repeat(50);
        assert_eq!(
            quote(long.as_bytes()),
            format!("'{}'... (100 bytes)", "é".repeat(40))
        );
        let exact = "x".repeat(SHOWN);
        assert_eq!(quote(exact.as_bytes()), format!("'{exact}'"));
        let invalid = [0xFFu8; 41];
        assert_eq!(
            quote(&invalid),
            format!("'{}'... (41 bytes)", "\\xFF".repeat(40))
        );
    }

    #[test]
    fn a_hint_shows_a_name_as_it_is_unless_it_would_be_cut_or_a_shell_would_read_it_otherwise() {
        assert_eq!(hint(b"x"), "x");
        assert_eq!(hint("é".repeat(SHOWN).as_bytes()), "é".repeat(SHOWN));
        assert_eq!(hint("é".repeat(SHOWN + 1).as_bytes()), "NAME");
        assert_eq!(hint(b"a\x1b"), "NAME");
        assert_eq!(hint(b"a\xff"), "NAME");
        assert_eq!(hint(b"s-1.a_b,c:d@e%f+g/h"), "s-1.a_b,c:d@e%f+g/h");
        for special in [
            "a'b", "a\\b", "$(rm)", "a*", "a;b", "a\"b", "~a", "a#", "a|b",
        ] {
            assert_eq!(hint(special.as_bytes()), "NAME", "{special}");
        }
    }

    #[test]
    fn long_paths_are_cut_and_sized() {
        let long = "a/".repeat(2500);
        let expected = format!("{}... (5000 bytes)", &long[..PATH_SHOWN]);
        assert_eq!(escape(long.as_bytes()), expected);
        let exact = "é".repeat(PATH_SHOWN);
        assert_eq!(escape(exact.as_bytes()), exact);
        let over = format!("{exact}\n");
        assert_eq!(escape(over.as_bytes()), format!("{exact}... (241 bytes)"));
        assert_eq!(escape(b"/tmp/\x1b[2J"), "/tmp/\\x1B[2J");
    }

    #[test]
    fn escaped_text_holds_no_control_character() {
        let all: Vec<u8> = (0..=255).collect();
        let all: String = all.chunks(PATH_SHOWN).map(escape).collect();
        let text = all + &escape("\u{9b}\u{2028}\u{E0041}".as_bytes());
        assert!(text.chars().all(printable), "{text}");
    }
}
