//! Agents: the tool loop ([`run`]), the run steps and content parts it streams as LibreChat's
//! client reads them ([`steps`]), and the tools a model may call ([`tools`]).

pub mod run;
pub mod steps;
pub mod tools;
