//! Numbers as Terraform computes them. Terraform (through cty) keeps every number as a binary
//! floating-point value with a 512-bit mantissa (Go's `big.Float`), parses decimal text into
//! it rounding to nearest even, rounds after every operation the same way, and writes it back
//! as the shortest decimal text that reads back as the same value. This module does exactly
//! that, so `0.1 + 0.2` is `0.3` and `12345678901234567890 + 1` is exact, as in Terraform, and
//! `1.1 + 2.2` is the same 155-digit number Terraform prints.
//!
//! Formatting follows Go's `big.Float` and `big.Int` formatting, which Terraform's `format`
//! uses: `%e %E %f %g %G` with precision and flags, `%b %d %o %x %X` for integers.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Bits in the mantissa, as cty parses and computes.
const PRECISION: u64 = 512;

/// A number: `(-1)^neg × mant × 2^exp`, the mantissa at most 512 bits and without trailing
/// zero bits (so equal numbers are equal structs); zero is `mant == 0`, `exp == 0`, not
/// negative.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    neg: bool,
    mant: BigUint,
    exp: i64,
}

fn pow10(n: u64) -> BigUint {
    BigUint::from(10u32).pow(n as u32)
}

impl Number {
    pub fn zero() -> Number {
        Number {
            neg: false,
            mant: BigUint::zero(),
            exp: 0,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    /// `num / den × 2^exp` (den > 0), rounded to 512 bits, ties to even.
    fn rounded(neg: bool, num: BigUint, den: BigUint, exp: i64) -> Number {
        if num.is_zero() {
            return Number::zero();
        }
        // scale so that the quotient has at least PRECISION + 2 bits
        let want = PRECISION as i64 + 2;
        let shift = want + den.bits() as i64 - num.bits() as i64;
        let (q, r) = if shift >= 0 {
            (num << shift as u64).div_rem(&den)
        } else {
            num.div_rem(&(den << (-shift) as u64))
        };
        let extra = q.bits() as i64 - PRECISION as i64;
        let (mut mant, mut exp) = (q.clone(), exp - shift);
        if extra > 0 {
            let extra_u = extra as u64;
            mant = &q >> extra_u;
            exp += extra;
            let half = q.bit(extra_u - 1);
            let below = &q & ((BigUint::one() << (extra_u - 1)) - 1u32);
            let sticky = !below.is_zero() || !r.is_zero();
            if half && (sticky || mant.bit(0)) {
                mant += 1u32;
                if mant.bits() > PRECISION {
                    mant >>= 1;
                    exp += 1;
                }
            }
        }
        Number::normal(neg, mant, exp)
    }

    fn normal(neg: bool, mut mant: BigUint, mut exp: i64) -> Number {
        if mant.is_zero() {
            return Number::zero();
        }
        let tz = mant.trailing_zeros().unwrap_or(0);
        if tz > 0 {
            mant >>= tz;
            exp += tz as i64;
        }
        Number { neg, mant, exp }
    }

    /// `digits × 10^exp10`, rounded.
    fn from_decimal(neg: bool, digits: BigUint, exp10: i64) -> Number {
        if exp10 >= 0 {
            Number::rounded(neg, digits * pow10(exp10 as u64), BigUint::one(), 0)
        } else {
            Number::rounded(neg, digits, pow10((-exp10) as u64), 0)
        }
    }

    pub fn from_u64(n: u64) -> Number {
        Number::normal(false, BigUint::from(n), 0)
    }

    pub fn from_i64(n: i64) -> Number {
        Number::normal(n < 0, BigUint::from(n.unsigned_abs()), 0)
    }

    /// Parses decimal text as HCL and Terraform read number literals and convert strings:
    /// `[+-]digits[.digits][(e|E)[+-]digits]`. `None` for anything else, or an exponent beyond
    /// any sensible configuration (more than 10,000).
    pub fn parse(text: &str) -> Option<Number> {
        let t = text;
        let (neg, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let digit_run = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digit_run(int) || !digit_run(frac) {
            return None;
        }
        let mut exp10: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digit_run(digits) || digits.len() > 5 {
                    return None;
                }
                e.parse().ok()?
            }
        };
        if exp10.abs() > 10_000 {
            return None;
        }
        exp10 -= frac.len() as i64;
        let all = format!("{int}{frac}");
        let digits: BigUint = all.parse().unwrap_or_default();
        Some(Number::from_decimal(neg, digits, exp10))
    }

    pub fn neg(&self) -> Number {
        if self.is_zero() {
            return self.clone();
        }
        Number {
            neg: !self.neg,
            ..self.clone()
        }
    }

    /// The exact sum, as an unrounded signed mantissa at exponent `exp`.
    fn aligned(&self, other: &Number) -> (bool, BigUint, bool, BigUint, i64) {
        let exp = self.exp.min(other.exp);
        let a = &self.mant << (self.exp - exp) as u64;
        let b = &other.mant << (other.exp - exp) as u64;
        (self.neg, a, other.neg, b, exp)
    }

    pub fn add(&self, other: &Number) -> Number {
        let (an, a, bn, b, exp) = self.aligned(other);
        let (neg, sum) = if an == bn {
            (an, a + b)
        } else if a >= b {
            (an, a - b)
        } else {
            (bn, b - a)
        };
        Number::rounded(neg, sum, BigUint::one(), exp)
    }

    pub fn sub(&self, other: &Number) -> Number {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Number) -> Number {
        Number::rounded(
            self.neg != other.neg,
            &self.mant * &other.mant,
            BigUint::one(),
            self.exp + other.exp,
        )
    }

    /// `None` when dividing by zero.
    pub fn div(&self, other: &Number) -> Option<Number> {
        if other.is_zero() {
            return None;
        }
        Some(Number::rounded(
            self.neg != other.neg,
            self.mant.clone(),
            other.mant.clone(),
            self.exp - other.exp,
        ))
    }

    /// cty's modulo: `a - b × trunc(a / b)`, each step rounded; `a % 0` is `a`.
    pub fn rem(&self, other: &Number) -> Number {
        let Some(q) = self.div(other) else {
            return self.clone();
        };
        self.sub(&other.mul(&q.trunc()))
    }

    /// Rounded toward zero to a whole number.
    pub fn trunc(&self) -> Number {
        if self.exp >= 0 {
            return self.clone();
        }
        Number::normal(self.neg, &self.mant >> (-self.exp) as u64, 0)
    }

    pub fn is_integer(&self) -> bool {
        self.exp >= 0 || self.is_zero()
    }

    /// The value as a whole number, if it is one: sign and magnitude.
    pub fn to_integer(&self) -> Option<(bool, BigUint)> {
        if !self.is_integer() {
            return None;
        }
        Some((self.neg, &self.mant << self.exp.max(0) as u64))
    }

    pub fn to_i64(&self) -> Option<i64> {
        let (neg, m) = self.to_integer()?;
        let v = m.to_i64()?;
        Some(if neg { -v } else { v })
    }

    /// The nearest 64-bit float (for JSON output).
    pub fn to_f64(&self) -> f64 {
        self.text().parse().unwrap_or(f64::NAN)
    }

    /// The exact decimal expansion: digits without trailing zeros (empty for zero) and the
    /// position of the decimal point (value = 0.DIGITS × 10^dp).
    fn decimal(&self) -> Decimal {
        if self.is_zero() {
            return Decimal {
                digits: Vec::new(),
                dp: 0,
            };
        }
        let (n, frac) = if self.exp >= 0 {
            (&self.mant << self.exp as u64, 0i64)
        } else {
            let k = (-self.exp) as u64;
            (&self.mant * BigUint::from(5u32).pow(k as u32), k as i64)
        };
        let mut digits = n.to_string().into_bytes();
        let dp = digits.len() as i64 - frac;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        Decimal { digits, dp }
    }

    /// The shortest decimal that reads back as this number.
    fn shortest(&self) -> Decimal {
        let exact = self.decimal();
        let reads_back = |n: usize| {
            let mut d = exact.clone();
            d.round(n as i64);
            let digits: BigUint = if d.digits.is_empty() {
                BigUint::zero()
            } else {
                std::str::from_utf8(&d.digits)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or_default()
            };
            let back = Number::from_decimal(self.neg, digits, d.dp - d.digits.len() as i64);
            (back == *self).then_some(d)
        };
        // reading back holds from some length on: search for the first
        let (mut lo, mut hi) = (1usize, exact.digits.len().max(1));
        while lo < hi {
            let mid = (lo + hi) / 2;
            if reads_back(mid).is_some() {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        reads_back(lo).unwrap_or(exact)
    }

    /// Terraform's text of a number (`tostring`, interpolation, JSON): the shortest decimal,
    /// with no exponent (Go's `Text('f', -1)`).
    pub fn text(&self) -> String {
        self.format_float('f', None)
    }

    /// Go's `big.Float.Text(verb, prec)` for `e E f g G`; `prec` `None` is the shortest
    /// representation.
    pub fn format_float(&self, verb: char, prec: Option<usize>) -> String {
        let mut d;
        let mut prec = prec.map(|p| p as i64);
        let shortest = prec.is_none();
        match prec {
            None => {
                d = self.shortest();
                let n = d.digits.len() as i64;
                prec = Some(match verb {
                    'e' | 'E' => n - 1,
                    'f' => (n - d.dp).max(0),
                    _ => n,
                });
            }
            Some(p) => {
                d = self.decimal();
                match verb {
                    'e' | 'E' => d.round(1 + p),
                    'f' => d.round(d.dp + p),
                    _ => {
                        let p = p.max(1);
                        prec = Some(p);
                        d.round(p);
                    }
                }
            }
        }
        let mut prec = prec.unwrap_or(0);
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        match verb {
            'e' | 'E' => d.fmt_e(&mut out, verb, prec),
            'f' => d.fmt_f(&mut out, prec),
            _ => {
                let n = d.digits.len() as i64;
                let mut eprec = prec;
                if eprec > n && n >= d.dp {
                    eprec = n;
                }
                if shortest {
                    eprec = 6;
                }
                let exp = d.dp - 1;
                if exp < -4 || exp >= eprec {
                    if prec > n {
                        prec = n;
                    }
                    let e = if verb == 'G' { 'E' } else { 'e' };
                    d.fmt_e(&mut out, e, prec - 1);
                } else {
                    if prec > d.dp {
                        prec = n;
                    }
                    d.fmt_f(&mut out, (prec - d.dp).max(0));
                }
            }
        }
        out
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if sign(self) == 0 => Ordering::Equal,
            Ordering::Equal => {
                let (_, a, _, b, _) = self.aligned(other);
                if self.neg {
                    b.cmp(&a)
                } else {
                    a.cmp(&b)
                }
            }
            o => o,
        }
    }
}

/// A decimal digit string, as Go's `big` package converts and rounds: value = 0.DIGITS ×
/// 10^dp, no trailing zeros.
#[derive(Debug, Clone)]
struct Decimal {
    digits: Vec<u8>,
    dp: i64,
}

impl Decimal {
    /// Rounds to `n` digits, ties to even only when the digits end exactly at the tie.
    fn round(&mut self, n: i64) {
        if n < 0 || n as usize >= self.digits.len() {
            return;
        }
        let n = n as usize;
        let up = if self.digits[n] == b'5' && n + 1 == self.digits.len() {
            n > 0 && (self.digits[n - 1] - b'0') & 1 != 0
        } else {
            self.digits[n] >= b'5'
        };
        if up {
            let mut i = n;
            while i > 0 && self.digits[i - 1] == b'9' {
                i -= 1;
            }
            if i == 0 {
                self.digits = vec![b'1'];
                self.dp += 1;
                return;
            }
            self.digits[i - 1] += 1;
            self.digits.truncate(i);
        } else {
            self.digits.truncate(n);
            while self.digits.last() == Some(&b'0') {
                self.digits.pop();
            }
        }
    }

    fn at(&self, i: i64) -> char {
        if i >= 0 && (i as usize) < self.digits.len() {
            self.digits[i as usize] as char
        } else {
            '0'
        }
    }

    fn fmt_f(&self, out: &mut String, prec: i64) {
        if self.dp > 0 {
            for i in 0..self.dp {
                out.push(self.at(i));
            }
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            for i in 0..prec {
                out.push(self.at(self.dp + i));
            }
        }
    }

    fn fmt_e(&self, out: &mut String, e: char, prec: i64) {
        out.push(self.digits.first().map_or('0', |&d| d as char));
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(self.at(i));
            }
        }
        out.push(e);
        let exp = if self.digits.is_empty() {
            0
        } else {
            self.dp - 1
        };
        out.push(if exp < 0 { '-' } else { '+' });
        if exp.abs() < 10 {
            out.push('0');
        }
        out.push_str(&exp.abs().to_string());
    }
}

/// Go's `big.Int` formatting under `fmt` for `%b %d %o %x %X` with flags `+ - 0 #` and space,
/// width and precision (the least number of digits).
pub fn format_integer(neg: bool, magnitude: &BigUint, verb: char, spec: &FormatSpec) -> String {
    let base = match verb {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => 10,
    };
    let mut digits = magnitude.to_str_radix(base);
    if verb == 'X' {
        digits = digits.to_uppercase();
    }
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(p) = spec.precision {
        if digits.len() < p {
            zeros = p - digits.len();
        } else if digits == "0" && p == 0 {
            return String::new();
        }
    }
    let (mut left, mut right) = (0, 0);
    let length = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(w) = spec.width.filter(|&w| length < w) {
        let d = w - length;
        if spec.minus {
            right = d;
        } else if spec.zero && spec.precision.is_none() {
            zeros = d;
        } else {
            left = d;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

/// Go's `big.Float` formatting under `fmt` for `%e %E %f %g %G`: the number's text with the
/// verb's precision (6 for e and f when none is given, shortest for g), then sign and padding.
pub fn format_float_verb(n: &Number, verb: char, spec: &FormatSpec) -> String {
    let prec = match (spec.precision, verb) {
        (Some(p), _) => Some(p),
        (None, 'g' | 'G') => None,
        (None, _) => Some(6),
    };
    let text = n.format_float(verb, prec);
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.to_string()),
        None if spec.plus => ("+", text),
        None if spec.space => (" ", text),
        None => ("", text),
    };
    let padding = spec
        .width
        .map_or(0, |w| w.saturating_sub(sign.len() + body.len()));
    if spec.zero {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if spec.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// The flags, width and precision of one `format` verb.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatSpec {
    pub zero: bool,
    pub sharp: bool,
    pub minus: bool,
    pub plus: bool,
    pub space: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn decimal_text_reads_back_as_terraform_writes_it() {
        assert_eq!(n("0.1").add(&n("0.2")).text(), "0.3");
        assert_eq!(
            n("12345678901234567890").add(&n("1")).text(),
            "12345678901234567891"
        );
        assert_eq!(n("1e21").text(), "1000000000000000000000");
        assert_eq!(n("1.50").text(), "1.5");
        assert_eq!(n("-0.25").text(), "-0.25");
        assert_eq!(n("0").text(), "0");
        assert_eq!(n("7").div(&n("2")).unwrap().text(), "3.5");
        assert_eq!(n("7").rem(&n("3")).text(), "1");
        assert_eq!(n("-7").rem(&n("3")).text(), "-1");
        assert_eq!(n("5").rem(&n("0")).text(), "5");
        assert!(n("2") > n("1.5") && n("-2") < n("-1.5") && n("0") == n("-0"));
        assert_eq!(Number::parse("1x"), None);
        assert_eq!(Number::parse("."), None);
    }

    #[test]
    fn formats_like_go() {
        let s = FormatSpec::default();
        assert_eq!(format_float_verb(&n("3.14159"), 'f', &s), "3.141590");
        let two = FormatSpec {
            precision: Some(2),
            ..FormatSpec::default()
        };
        assert_eq!(format_float_verb(&n("2.675"), 'f', &two), "2.67");
        assert_eq!(format_float_verb(&n("0.125"), 'f', &two), "0.12");
        assert_eq!(format_float_verb(&n("0.375"), 'f', &two), "0.38");
        assert_eq!(format_float_verb(&n("123456.789"), 'e', &s), "1.234568e+05");
        assert_eq!(format_float_verb(&n("1000000"), 'g', &s), "1e+06");
        assert_eq!(format_float_verb(&n("100000"), 'g', &s), "100000");
        let zero5 = FormatSpec {
            zero: true,
            width: Some(5),
            ..FormatSpec::default()
        };
        assert_eq!(
            format_integer(false, &BigUint::from(42u32), 'd', &zero5),
            "00042"
        );
        assert_eq!(
            format_integer(true, &BigUint::from(42u32), 'd', &zero5),
            "-0042"
        );
        assert_eq!(format_integer(false, &BigUint::from(255u32), 'x', &s), "ff");
    }
}
