//! `parse_duration` must report an overflow as an error, never panic.

use std::time::Duration;

use humantime::{parse_duration, DurationError};

#[test]
fn nanoseconds_adding_up_to_a_whole_second_at_the_maximum_are_an_overflow_error() {
    let result = std::panic::catch_unwind(|| parse_duration("18446744073709551615s 1000000000ns"));
    assert!(matches!(result, Ok(Err(DurationError::NumberOverflow))), "{result:?}");
}

#[test]
fn nanoseconds_carried_over_several_parts_are_an_overflow_error_too() {
    let result = std::panic::catch_unwind(|| parse_duration("18446744073709551615s 999999999ns 1ns"));
    assert!(matches!(result, Ok(Err(DurationError::NumberOverflow))), "{result:?}");
}

#[test]
fn exactly_one_second_of_nanoseconds_is_carried() {
    assert_eq!(parse_duration("1s 1000000000ns").unwrap(), Duration::new(2, 0));
    assert_eq!(parse_duration("500ms 500000000ns").unwrap(), Duration::new(1, 0));
}

#[test]
fn ordinary_durations_still_parse() {
    assert_eq!(parse_duration("2h 37min").unwrap(), Duration::new(9420, 0));
    assert_eq!(parse_duration("1ms 2us 3ns").unwrap(), Duration::new(0, 1_002_003));
}
