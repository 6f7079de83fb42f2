//! Agents: the tool loop ([`run`], one round of tool calls in `round`), the run steps and
//! content parts it streams as LibreChat's client reads them ([`steps`]), and the tools a
//! model may call ([`tools`]).

mod round;
pub mod run;
pub mod steps;
pub mod tools;
