//! `quote` must return a word that a POSIX shell (bash included) reads back unchanged.

// The crate's manifest names no edition (2015), where a dependency needs extern crate.
extern crate shlex;

use shlex::{quote, split};

#[test]
fn braces_are_quoted_so_bash_does_not_expand_them() {
    for word in ["{a,b}", "x{1..3}", "}", "{"] {
        let quoted = quote(word);
        assert_ne!(quoted, word, "{word:?} was left bare");
        assert_eq!(split(&quoted), Some(vec![word.to_string()]));
    }
}

#[test]
fn plain_words_stay_bare() {
    assert_eq!(quote("plain-word_1.0"), "plain-word_1.0");
}

#[test]
fn words_with_spaces_and_quotes_round_trip() {
    for word in ["two words", "it's", "say \"hi\"", "$HOME"] {
        assert_eq!(split(&quote(word)), Some(vec![word.to_string()]));
    }
}
