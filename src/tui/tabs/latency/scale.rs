//! How latency is placed on the chart and written: the y-axis is logarithmic (decades of
//! seconds), and durations are written in the unit an operator reads at a glance (`850ms`,
//! `4.2s`, `12m05s`, `1h02m`).
//!
//! Why a log axis: ratatui's `Chart` is linear, and a linear axis cannot show both of
//! Microsoft's lines meaningfully — one tall enough for the 60 min maximum flattens a healthy
//! 2–8 s median onto the floor, and one that shows the median puts 60 min far off the top.
//! So the chart plots `log10(seconds)` and labels each decade: the 10 s line always sits on
//! its own tick, the axis grows by decades only when the data reaches them, and the 60 min
//! line is drawn exactly when the axis reaches it (otherwise [`LogAxis::shows`] says so and
//! the tab writes a note instead).
//!
//! Pure arithmetic and formatting; depends on nothing but std.

/// The floor of the axis, in seconds: faster deliveries are drawn on it. Delivery from
/// Microsoft's side takes seconds, so a decade below one second would only cost rows.
pub const FLOOR_SECONDS: f64 = 1.0;

/// The lowest top of the axis, in seconds (100 s): the 10 s line is never at the very top.
const MIN_TOP_DECADE: i32 = 2;

/// The highest top (10⁶ s, 11.6 days): beyond anything Graph keeps retrying.
const MAX_TOP_DECADE: i32 = 6;

/// A logarithmic axis from [`FLOOR_SECONDS`] to a power of ten.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogAxis {
    /// log10 of the top, in seconds.
    top_decade: i32,
}

impl LogAxis {
    /// The smallest axis that holds `largest` seconds (at least up to 100 s).
    pub fn fitting(largest: f64) -> Self {
        let needed = if largest.is_finite() && largest > 0.0 {
            // Rounding absorbs float noise, so exactly 1000 s stays on a 1000 s axis.
            let log = (largest.log10() * 1e9).round() / 1e9;
            log.ceil() as i32
        } else {
            MIN_TOP_DECADE
        };
        Self {
            top_decade: needed.clamp(MIN_TOP_DECADE, MAX_TOP_DECADE),
        }
    }

    /// Where `seconds` is drawn: its log, held within the axis.
    pub fn y(self, seconds: f64) -> f64 {
        let [bottom, top] = self.bounds();
        if seconds.is_nan() || seconds <= FLOOR_SECONDS {
            return bottom;
        }
        seconds.log10().clamp(bottom, top)
    }

    /// The axis bounds in plotted units.
    pub fn bounds(self) -> [f64; 2] {
        [FLOOR_SECONDS.log10(), f64::from(self.top_decade)]
    }

    /// The top, in seconds.
    pub fn top_seconds(self) -> f64 {
        10f64.powi(self.top_decade)
    }

    /// Whether a line at `seconds` falls within the axis (and so is drawn).
    pub fn shows(self, seconds: f64) -> bool {
        seconds >= FLOOR_SECONDS && seconds <= self.top_seconds()
    }

    /// One label per decade, bottom first, for a plot `rows` high: ratatui spaces labels
    /// evenly, and decades are evenly spaced on a log axis, so each label sits on its value.
    /// With fewer rows than decades, every other (or third…) label is left blank rather than
    /// printed over its neighbour; the blanks keep the others on their decades.
    pub fn labels(self, rows: usize) -> Vec<String> {
        let floor = FLOOR_SECONDS.log10().round() as i32;
        let decades = usize::try_from(self.top_decade - floor).unwrap_or(0);
        let stride = decades.div_ceil(rows.saturating_sub(1).max(1)).max(1);
        (floor..=self.top_decade)
            .enumerate()
            .map(|(index, decade)| {
                if index % stride == 0 {
                    duration(10f64.powi(decade))
                } else {
                    String::new()
                }
            })
            .collect()
    }
}

/// A latency written for reading at a glance: `850ms`, `4.2s`, `42s`, `12m05s`, `1h02m`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "–".to_owned();
    }
    if seconds < 1.0 {
        let millis = (seconds * 1000.0).round() as u64;
        return if millis >= 1000 {
            "1s".to_owned()
        } else {
            format!("{millis}ms")
        };
    }
    if seconds < 10.0 {
        let tenths = (seconds * 10.0).round() / 10.0;
        return if tenths >= 10.0 {
            "10s".to_owned()
        } else if tenths.fract() == 0.0 {
            format!("{tenths:.0}s")
        } else {
            format!("{tenths:.1}s")
        };
    }
    let whole = seconds.round() as u64;
    match whole {
        0..60 => format!("{whole}s"),
        60..3600 => match (whole / 60, whole % 60) {
            (m, 0) => format!("{m}m"),
            (m, s) => format!("{m}m{s:02}s"),
        },
        _ => {
            let minutes = whole / 60;
            match (minutes / 60, minutes % 60) {
                (h, 0) => format!("{h}h"),
                (h, m) => format!("{h}h{m:02}m"),
            }
        }
    }
}

/// A count with thousands separated: `1,204`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A count in at most four columns, for bar values: `987`, `1.2k`, `12k`, `1.3M`.
pub fn short_count(n: u64) -> String {
    let scaled = |value: f64, unit: &str| {
        if value < 9.95 {
            format!("{value:.1}{unit}")
        } else {
            format!("{value:.0}{unit}")
        }
    };
    match n {
        0..1000 => n.to_string(),
        1000..999_500 => scaled(n as f64 / 1e3, "k"),
        _ => scaled(n as f64 / 1e6, "M"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_window_gets_the_smallest_axis_with_the_average_line_on_a_tick() {
        let axis = LogAxis::fitting(8.4);
        assert_eq!(axis.bounds(), [0.0, 2.0]);
        assert_eq!(axis.labels(10), ["1s", "10s", "1m40s"]);
        assert!(axis.shows(10.0));
        assert!(
            !axis.shows(3600.0),
            "the 60 min line is above a healthy axis"
        );
    }

    #[test]
    fn an_incident_grows_the_axis_by_decades_until_the_maximum_line_is_drawn() {
        let axis = LogAxis::fitting(2.0 * 3600.0);
        assert_eq!(axis.bounds(), [0.0, 4.0]);
        assert!(axis.shows(3600.0) && axis.shows(10.0));
        assert_eq!(axis.labels(10).last().map(String::as_str), Some("2h46m"));
        assert_eq!(LogAxis::fitting(1000.0).bounds(), [0.0, 3.0]);
        assert_eq!(LogAxis::fitting(1000.5).bounds(), [0.0, 4.0]);
    }

    #[test]
    fn a_short_plot_blanks_labels_instead_of_overprinting_them() {
        let axis = LogAxis::fitting(2.0 * 3600.0);
        assert_eq!(axis.labels(5), ["1s", "10s", "1m40s", "16m40s", "2h46m"]);
        assert_eq!(axis.labels(3), ["1s", "", "1m40s", "", "2h46m"]);
        assert_eq!(
            axis.labels(0).len(),
            5,
            "positions are kept whatever the height"
        );
    }

    #[test]
    fn nonsense_and_extremes_stay_on_the_axis() {
        assert_eq!(LogAxis::fitting(f64::NAN).bounds(), [0.0, 2.0]);
        assert_eq!(LogAxis::fitting(-5.0).bounds(), [0.0, 2.0]);
        assert_eq!(LogAxis::fitting(1e12).bounds(), [0.0, 6.0]);
        let axis = LogAxis::fitting(8.0);
        assert_eq!(axis.y(0.0), 0.0, "zero sits on the floor, not at -inf");
        assert_eq!(axis.y(0.3), 0.0, "sub-second deliveries sit on the floor");
        assert_eq!(axis.y(f64::NAN), 0.0);
        assert_eq!(axis.y(1e9), 2.0, "clamped to the top");
        assert!((axis.y(10.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn durations_use_the_unit_read_at_a_glance() {
        assert_eq!(duration(0.0123), "12ms");
        assert_eq!(duration(0.9996), "1s");
        assert_eq!(duration(2.0), "2s");
        assert_eq!(duration(4.25), "4.3s");
        assert_eq!(duration(9.97), "10s");
        assert_eq!(duration(42.4), "42s");
        assert_eq!(duration(60.0), "1m");
        assert_eq!(duration(725.0), "12m05s");
        assert_eq!(duration(3600.0), "1h");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(duration(-1.0), "–");
        assert_eq!(duration(f64::INFINITY), "–");
    }

    #[test]
    fn counts_are_grouped_and_shortened() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1204), "1,204");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(short_count(987), "987");
        assert_eq!(short_count(1234), "1.2k");
        assert_eq!(short_count(12_345), "12k");
        assert_eq!(short_count(999_999), "1.0M");
        assert_eq!(short_count(1_300_000), "1.3M");
    }
}
