//! Binary operators on evaluated values: arithmetic, comparison, equality and logic.

use super::*;

pub(super) fn binary(op: BinaryOperator, lhs: Value, rhs: Value) -> Result<Value, String> {
    use BinaryOperator as B;
    Ok(match (op, lhs, rhs) {
        (B::Eq, a, b) => Value::Bool(a == b),
        (B::NotEq, a, b) => Value::Bool(a != b),
        (B::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(a && b),
        (B::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(a || b),
        (B::Less, Value::Number(a), Value::Number(b)) => Value::Bool(a < b),
        (B::LessEq, Value::Number(a), Value::Number(b)) => Value::Bool(a <= b),
        (B::Greater, Value::Number(a), Value::Number(b)) => Value::Bool(a > b),
        (B::GreaterEq, Value::Number(a), Value::Number(b)) => Value::Bool(a >= b),
        (B::Plus, Value::Number(a), Value::Number(b)) => Value::Number(a.add(&b)),
        (B::Minus, Value::Number(a), Value::Number(b)) => Value::Number(a.sub(&b)),
        (B::Mul, Value::Number(a), Value::Number(b)) => Value::Number(a.mul(&b)),
        (B::Div, Value::Number(a), Value::Number(b)) => {
            Value::Number(a.div(&b).ok_or("division by zero")?)
        }
        // as cty: `a % 0` is `a`
        (B::Mod, Value::Number(a), Value::Number(b)) => Value::Number(a.rem(&b)),
        (op, a, b) => {
            return Err(format!(
                "operator `{}` does not apply to {} and {}",
                op.as_str(),
                a.type_name(),
                b.type_name()
            ))
        }
    })
}
