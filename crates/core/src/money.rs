//! Money: atomic units of an asset, and US dollars in millionths. Integers only.

use std::{fmt, str::FromStr};

use purse_x402::registry::Asset;

/// US dollars, counted in millionths ($1 = 1 000 000): exact for 6-decimal stablecoins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(pub u128);

/// Millionths in a dollar.
const MICROS: u128 = 1_000_000;

/// A dollar amount that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a dollar amount (like 0.10 or $5, at most 6 decimals)")]
pub struct UsdError(String);

impl FromStr for Usd {
    type Err = UsdError;

    /// `0.10`, `$0.10`, `5`, `$1,000.5`: up to six decimals, no sign, no exponent.
    fn from_str(text: &str) -> Result<Self, UsdError> {
        let error = || UsdError(text.to_owned());
        let cleaned: String =
            text.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
        let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > 6
        {
            return Err(error());
        }
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| error())? };
        let fraction: u128 = format!("{fraction:0<6}").parse().map_err(|_| error())?;
        whole.checked_mul(MICROS).and_then(|w| w.checked_add(fraction)).map(Usd).ok_or_else(error)
    }
}

impl fmt::Display for Usd {
    /// `$0.10`, `$1.234567`, `$5.00`: [`Usd::decimal`] after a `$`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.decimal())
    }
}

impl Usd {
    /// `0.10`, `1.234567`, `5.00`: at least two decimals, no trailing zeros past them, no
    /// `$` (for fields and files that hold a number of dollars).
    pub fn decimal(self) -> String {
        let fraction = format!("{:06}", self.0 % MICROS);
        let fraction = fraction.trim_end_matches('0');
        format!("{}.{fraction:0<2}", self.0 / MICROS)
    }

    /// `a + b`, saturating.
    pub fn plus(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }
}

/// The dollar value of `atomic` units of a USD stablecoin, rounded up (a limit is never
/// passed by a rounding), or `None` for an asset that is not a dollar or an amount beyond
/// u128.
pub fn usd_value(asset: &Asset, atomic: &str) -> Option<Usd> {
    if !asset.usd {
        return None;
    }
    let units: u128 = atomic.parse().ok()?;
    let decimals = u32::from(asset.decimals);
    let micros = if decimals >= 6 {
        let divisor = 10u128.checked_pow(decimals - 6)?;
        units.div_ceil(divisor)
    } else {
        units.checked_mul(10u128.checked_pow(6 - decimals)?)?
    };
    Some(Usd(micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_x402::registry;

    #[test]
    fn dollars_parse_exactly_and_print_plainly() {
        for (text, micros, shown) in [
            ("0.10", 100_000, "$0.10"),
            ("$5", 5_000_000, "$5.00"),
            ("1,000.5", 1_000_500_000, "$1000.50"),
            (".000001", 1, "$0.000001"),
            ("1.234567", 1_234_567, "$1.234567"),
        ] {
            let usd: Usd = text.parse().unwrap();
            assert_eq!(usd, Usd(micros), "{text}");
            assert_eq!(usd.to_string(), shown);
        }
        for bad in ["", "$", "-1", "1e3", "0.1234567", "1.2.3", "ten", "0x10"] {
            assert!(bad.parse::<Usd>().is_err(), "{bad}");
        }
    }

    #[test]
    fn atomic_units_convert_by_the_registrys_decimals() {
        let usdc = registry::assets_on(84532).next().unwrap();
        assert_eq!(usd_value(usdc, "10000"), Some(Usd(10_000)));
        let mega = registry::assets_on(4326).next().unwrap();
        assert_eq!(mega.decimals, 18);
        assert_eq!(usd_value(mega, "100000000000000000"), Some(Usd(100_000)), "0.1 MegaUSD");
        assert_eq!(usd_value(mega, "1"), Some(Usd(1)), "rounded up, never down to free");
        assert_eq!(usd_value(usdc, "not a number"), None);
    }
}
