//! `RiskBadge`: one risk level, one colour, everywhere.

use leptos::prelude::*;

use crate::model::risk::RiskLevel;

#[component]
pub fn RiskBadge(level: RiskLevel, #[prop(optional)] label: Option<&'static str>) -> impl IntoView {
    let class = format!("risk-badge {}", level.css_class());
    let text = match label {
        Some(prefix) => format!("{prefix}: {}", level.as_str()),
        None => level.as_str().to_owned(),
    };
    view! { <span class=class data-risk=level.as_str()>{text}</span> }
}
