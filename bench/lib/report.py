"""Rows of results, their summary statistics and ratios, and the three ways
they leave the suite: the printed table, results.json and results.csv."""
import csv
import json
import statistics

COLUMNS = ("osprey", "linux", "baseline")
COLUMN_NAMES = {"osprey": "Osprey", "linux": "Linux guest", "baseline": "native or floor"}


class Figure:
    """Repeated measurements of one quantity: median, min, max."""

    def __init__(self, samples, exact=False):
        self.samples = [float(s) for s in samples]
        self.exact = exact  # deterministic: one measurement says it all

    @property
    def median(self):
        return statistics.median(self.samples)

    def as_dict(self):
        return {"median": self.median, "min": min(self.samples), "max": max(self.samples),
                "n": len(self.samples), "samples": self.samples}


class Row:
    """One line of the table. `better` is "lower" or "higher"; `baseline` is
    native Linux for in-guest figures and QEMU's empty-guest floor for
    whole-process boot times. A row with `note` and no figures stands for a
    feature that has not landed."""

    def __init__(self, group, name, unit, better="lower", osprey=None, linux=None, baseline=None,
                 note="", config=""):
        self.group, self.name, self.unit, self.better = group, name, unit, better
        self.figures = {"osprey": osprey, "linux": linux, "baseline": baseline}
        self.note, self.config = note, config
        self.failed = {}  # column -> why it has no figure

    def fail(self, column, reason):
        self.failed[column] = reason
        return self

    def ratio(self, other):
        """Osprey's median divided by the other column's, from the same run."""
        a, b = self.figures["osprey"], self.figures[other]
        if not a or not b or b.median == 0:
            return None
        return a.median / b.median

    def as_dict(self):
        return {"group": self.group, "name": self.name, "unit": self.unit, "better": self.better,
                "config": self.config, "note": self.note,
                "osprey_over_linux": self.ratio("linux"),
                "osprey_over_baseline": self.ratio("baseline"), "failed": self.failed,
                **{k: (f.as_dict() if f else None) for k, f in self.figures.items()}}


def number(x):
    """Whole numbers with thousands separators from 100 up, 3 digits below."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def cell(fig, failed=False):
    if fig is None:
        return "failed" if failed else "-"
    low, high = min(fig.samples), max(fig.samples)
    if low == high:
        return number(fig.median)
    if fig.exact:  # deterministic runs that still differ a little: say by how much
        return f"{number(fig.median)} ±{number((high - low) / 2)}"
    return f"{number(fig.median)} [{number(low)}-{number(high)}]"


def ratio_cell(r):
    return "-" if r is None else f"{r:.3g}"


HEADER = ("benchmark", "unit", "better", "Osprey", "Linux guest", "Osprey/Linux",
          "native or floor", "Osprey/base")
TEXT_COLUMNS = 3  # left-aligned; the figures are right-aligned


def is_pending(row):
    """A row for a feature that has not landed: its note instead of figures."""
    return bool(row.note) and row.figures["osprey"] is None and not row.failed


def row_cells(r):
    if is_pending(r):
        return [r.name, r.unit, r.better, r.note]
    f = r.figures
    return [r.name, r.unit, r.better, cell(f["osprey"], "osprey" in r.failed),
            cell(f["linux"], "linux" in r.failed), ratio_cell(r.ratio("linux")),
            cell(f["baseline"], "baseline" in r.failed), ratio_cell(r.ratio("baseline"))]


def table(rows, title):
    cells = [row_cells(r) for r in rows]
    widths = [len(h) for h in HEADER]
    for r, c in zip(rows, cells):
        for i, text in enumerate(c if not is_pending(r) else c[:TEXT_COLUMNS]):
            widths[i] = max(widths[i], len(text))

    def line(cols):
        return "  ".join(t.ljust(widths[i]) if i < TEXT_COLUMNS else t.rjust(widths[i])
                         for i, t in enumerate(cols)).rstrip()

    out = [title, "", line(HEADER), "  ".join("-" * w for w in widths)]
    group = None
    for r, c in zip(rows, cells):
        if r.group != group:
            group = r.group
            out.append(f"[{group}]")
        if is_pending(r):
            out.append(line(c[:TEXT_COLUMNS]) .ljust(sum(widths[:TEXT_COLUMNS]) + 2 * TEXT_COLUMNS)
                       + c[TEXT_COLUMNS])
        else:
            out.append(line(c))
    failures = {}  # (column, reason) -> the groups it hit
    for r in rows:
        for col, why in r.failed.items():
            groups = failures.setdefault((COLUMN_NAMES[col], why), [])
            if r.group not in groups:
                groups.append(r.group)
    if failures:
        out += ["", "Failed runs (no figure where the table says failed):"]
        out += [f"  {who} in {', '.join(groups)}: {why}" for (who, why), groups in failures.items()]
    return "\n".join(out)


def write_json(path, meta, rows):
    path.write_text(json.dumps({"meta": meta, "rows": [r.as_dict() for r in rows]}, indent=2) + "\n")


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group", "name", "unit", "better", "config",
                    *[f"{c}_{s}" for c in COLUMNS for s in ("median", "min", "max", "n")],
                    "osprey_over_linux", "osprey_over_baseline", "note", "failed"])
        for r in rows:
            vals = []
            for c in COLUMNS:
                f_ = r.figures[c]
                vals += ([f_.median, min(f_.samples), max(f_.samples), len(f_.samples)]
                         if f_ else ["", "", "", ""])
            w.writerow([r.group, r.name, r.unit, r.better, r.config, *vals,
                        r.ratio("linux") or "", r.ratio("baseline") or "", r.note,
                        "; ".join(f"{c}: {why}" for c, why in r.failed.items())])
