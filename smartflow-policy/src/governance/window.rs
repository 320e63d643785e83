//! Fixed counting windows aligned to UTC: which window a moment falls in, and when it ends.

use super::spec::Period;

const MINUTE: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
const WEEK: u64 = 7 * DAY;
/// 1970-01-01 was a Thursday: shifting by three days puts window starts on Mondays.
const WEEK_OFFSET: u64 = 3 * DAY;

/// The window of `period` that contains `now` (seconds since the Unix epoch): its id (the same
/// for every moment of the window, different for every other window of the period) and the
/// second it ends at (`u64::MAX` for [`Period::Total`]).
pub fn window(period: Period, now: u64) -> Window {
    match period {
        Period::Minute => fixed(now, MINUTE),
        Period::Hour => fixed(now, HOUR),
        Period::Day => fixed(now, DAY),
        Period::Week => {
            let shifted = now + WEEK_OFFSET;
            let start = shifted - shifted % WEEK;
            Window { id: start / WEEK, ends_at: start + WEEK - WEEK_OFFSET }
        }
        Period::Month => {
            let (y, m) = year_month(now / DAY);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            Window { id: y * 12 + (m - 1), ends_at: days_from_civil(ny, nm) * DAY }
        }
        Period::Total => Window { id: 0, ends_at: u64::MAX },
    }
}

/// One counting window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Identifies the window within its period.
    pub id: u64,
    /// The first second after the window.
    pub ends_at: u64,
}

impl Window {
    /// Seconds from `now` until the window ends (at least 1).
    pub fn reset_after(&self, now: u64) -> u64 {
        self.ends_at.saturating_sub(now).max(1)
    }
}

fn fixed(now: u64, len: u64) -> Window {
    let start = now - now % len;
    Window { id: start / len, ends_at: start + len }
}

/// Civil (year, month) of a day count since 1970-01-01 (Howard Hinnant's algorithm, for days
/// on or after the epoch).
fn year_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m)
}

/// Days since 1970-01-01 of the first day of (`y`, `m`).
fn days_from_civil(y: u64, m: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-21T22:45:00Z (a Saturday).
    const NOW: u64 = 1_795_301_100;

    #[test]
    fn fixed_windows_end_on_the_boundary() {
        assert_eq!(window(Period::Minute, NOW).ends_at, NOW + 60);
        assert_eq!(window(Period::Minute, NOW + 59).id, window(Period::Minute, NOW).id);
        assert_ne!(window(Period::Minute, NOW + 60).id, window(Period::Minute, NOW).id);
        assert_eq!(window(Period::Hour, NOW).ends_at, NOW + 15 * 60);
        assert_eq!(window(Period::Day, NOW).reset_after(NOW), 75 * 60);
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        // Monday 2026-11-23T00:00:00Z.
        let monday = 1_795_392_000;
        assert_eq!(window(Period::Week, NOW).ends_at, monday);
        assert_eq!(window(Period::Week, monday).id, window(Period::Week, NOW).id + 1);
        assert_eq!(window(Period::Week, monday - 1).id, window(Period::Week, NOW).id);
    }

    #[test]
    fn months_are_calendar_months() {
        // 2026-12-01T00:00:00Z, 2027-01-01, and a leap February.
        assert_eq!(window(Period::Month, NOW).ends_at, 1_796_083_200);
        assert_eq!(window(Period::Month, 1_796_083_200).ends_at, 1_798_761_600);
        let feb_2028 = 1_833_753_600; // 2028-02-10
        assert_eq!(window(Period::Month, feb_2028).ends_at, 1_835_481_600); // 2028-03-01
        assert_eq!(window(Period::Month, 1_796_083_199).id + 1, window(Period::Month, 1_796_083_200).id);
        assert_eq!(window(Period::Total, NOW).ends_at, u64::MAX);
    }
}
