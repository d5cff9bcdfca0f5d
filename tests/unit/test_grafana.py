"""The Grafana dashboard and the Prometheus scrape example cannot drift from the code: every
metric a panel queries is one the worker or the API registers, and every one they register is
on the dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from api.telemetry import ApiMetrics
from contracts.settings import Settings
from streams.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "youasked.json"
SCRAPE = ROOT / "deploy" / "prometheus" / "prometheus.yml"

SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_count", "_sum"]}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def series_names(registry: CollectorRegistry) -> dict[str, set[str]]:
    """``{family name: the series names a query can use}`` of every metric on ``registry``."""
    return {
        family.name: {family.name + suffix for suffix in SUFFIXES[family.type]}
        for family in registry.collect()
    }


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, label names, label
    values, ranges and grouping clauses left out)."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        if match.start() > 0 and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # an exponent or a unit inside a number
        if re.match(r"\s*\(", text[match.end() :]) or match.group().lower() in KEYWORDS:
            continue  # a function or aggregation, or a keyword
        names.add(match.group())
    return names


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return found


def test_the_expression_parser_finds_metric_names() -> None:
    expr = 'histogram_quantile(0.99, sum by (le, route) (rate(x_seconds_bucket{job=~"a|b"}[5m]))) / y_total'
    assert metric_names(expr) == {"x_seconds_bucket", "y_total"}
    assert metric_names("sum(rate(youasked_messages_in_total[$__rate_interval])) > 1e3") == {
        "youasked_messages_in_total"
    }


def test_every_panel_queries_only_metrics_the_code_registers_and_all_of_them() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    families = {**series_names(WorkerMetrics().registry), **series_names(ApiMetrics().registry)}
    known = set().union(*families.values())
    used: set[str] = set()
    queried = [p for p in panels(dashboard) if p["type"] != "row"]
    assert queried
    for panel in queried:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, (panel["title"], target["expr"])
            assert names <= known, (panel["title"], sorted(names - known))
            used |= names
    unused = [family for family, series in families.items() if not series & used]
    assert not unused, f"registered but on no panel: {unused}"


def test_the_dashboard_imports_with_a_prometheus_datasource_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    (source,) = dashboard["__inputs"]
    assert source["type"] == "datasource" and source["pluginId"] == "prometheus"
    reference = "${" + source["name"] + "}"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == reference, panel["title"]
        assert all(t["datasource"]["uid"] == reference for t in panel["targets"]), panel["title"]
    assert len({p["id"] for p in panels(dashboard)}) == len(panels(dashboard))


def test_the_scrape_example_names_the_default_ports_and_the_dashboards_jobs() -> None:
    config = yaml.safe_load(SCRAPE.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    default = {name: field.default for name, field in Settings.model_fields.items()}
    worker_targets = jobs["youasked-worker"]["static_configs"][0]["targets"]
    api_targets = jobs["youasked-api"]["static_configs"][0]["targets"]
    assert f"{default['worker_metrics_host']}:{default['worker_metrics_port']}" in worker_targets
    assert f"{default['api_host']}:{default['api_port']}" in api_targets
    variables = {v["name"]: v["query"] for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    assert variables == {"worker_job": "youasked-worker", "api_job": "youasked-api"}
