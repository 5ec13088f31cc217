"""The statistics screen (key s): three tabs of graphs drawn with Rich text, for the whole
collection or the deck being reviewed (key a switches).

- Overview: today, cards per state, true retention per period (young / mature), time
  spent, leeches.
- Reviews: a heatmap of the last year, reviews per day by rating and by card state,
  reviews per hour, answer buttons, cards first seen per day.
- Cards: the due forecast, histograms of interval, stability, difficulty and current
  retrievability.

The figures come from `flashmark.statistics` and `flashmark.stats` (what `flashmark
stats --json` prints). Drawn with Rich text in plain widgets rather than a plotting
library: a framed plot (textual-plotext) needs about twelve rows for ten bars and draws
no calendar, where these fit the whole heatmap in 9 rows of an 80x24 terminal; and
nothing is imported before the screen opens (the deck list and the reviewer import this
module then).
Every graph is drawn at its widget's width, and again when the width or theme changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from flashmark.errors import FlashmarkError
from flashmark.statistics import (
    PERIODS,
    RATINGS,
    REVIEW_STATES,
    Histogram,
    PassRate,
    Statistics,
)
from flashmark.stats import Report
from flashmark.tui.keys import bar_keys
from flashmark.tui.widgets import BLOCKS, KeyBar, column_chart

if TYPE_CHECKING:
    from flashmark.tui.app import FlashmarkApp

H_BLOCKS = " ▏▎▍▌▋▊▉█"  # horizontal eighths
HEAT_LEVELS = "░▒▓█"
TABS = ("overview", "reviews", "cards")
PERIOD_NAMES = {"today": "Today", "yesterday": "Yesterday", "week": "Last week",
                "month": "Last month", "year": "Last year", "all": "All time"}


@dataclass(frozen=True, slots=True)
class Palette:
    """The theme's colours for ratings and card states."""

    again: str
    hard: str
    good: str
    easy: str
    new: str
    learning: str
    relearning: str
    young: str
    mature: str
    bar: str

    @classmethod
    def of(cls, variables: dict[str, str]) -> Palette:
        def v(name: str, default: str) -> str:
            return variables.get(name) or default

        error, warning = v("error", "red"), v("warning", "yellow")
        success, primary = v("success", "green"), v("primary", "blue")
        accent = v("accent", "magenta")
        return cls(again=error, hard=warning, good=success, easy=primary, new=primary,
                   learning=warning, relearning=error, young=accent, mature=success,
                   bar=accent)

    def rating(self, name: str) -> str:
        return str(getattr(self, name))


def _fmt(n: int) -> str:
    return f"{n:,}"


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"


def _duration(seconds: float) -> str:
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {sec:02d}s" if minutes else f"{sec}s"


# --- drawing (pure: data, width and palette in, Rich renderables out) ----------------------

def stacked_columns(series: Sequence[Sequence[int]], styles: Sequence[str], *, height: int,
                    cell: int) -> list[Text]:
    """Rows (top first) of a column chart whose columns stack the values of ``series``
    (each a column, bottom segment first); each cell takes the colour of the segment at
    its middle. The tallest column fills ``height`` rows; any non-zero one shows."""
    totals = [sum(col) for col in series]
    top = max(totals, default=0) or 1
    rows: list[Text] = []
    for level in range(height, 0, -1):
        row = Text(no_wrap=True)
        for col, total in zip(series, totals, strict=True):
            eighths = max(1, round(total / top * height * 8)) if total else 0
            fill = min(max(eighths - (level - 1) * 8, 0), 8)
            if not fill:
                row.append(" " * cell)
                continue
            y = (level - 1 + fill / 16) / height * top  # the cell's middle, in values
            cumulative, style = 0, styles[-1]
            for value, segment_style in zip(col, styles, strict=True):
                cumulative += value
                if cumulative > y:
                    style = segment_style
                    break
            row.append(BLOCKS[fill] * cell, style=style)
        rows.append(row)
    return rows


def day_chart(title: str, days: Sequence[dt.date], series: Sequence[Sequence[int]],
              names: Sequence[str], styles: Sequence[str], width: int, *,
              height: int = 5) -> Text:
    """A titled stacked column chart over days, with its scale, dates and legend."""
    totals = [sum(col) for col in series]
    top = max(totals, default=0)
    label_width = max(len(str(top)), 1)
    room = max(1, width - label_width - 2)
    cell = max(1, min(3, room // max(1, len(series))))
    if len(series) > room:  # too narrow: the latest days
        series, days = series[-room:], days[-room:]
    out = Text(no_wrap=True, overflow="crop")
    out.append(title, style="bold")
    out.append(f"  (total {_fmt(sum(totals))})\n", style="dim")
    for k, row in enumerate(stacked_columns(series, styles, height=height, cell=cell)):
        label = str(top) if k == 0 else ("0" if k == height - 1 else "")
        out.append(label.rjust(label_width) + " │", style="dim")
        out.append_text(row)
        out.append("\n")
    if days:
        first, last = days[0].strftime("%m-%d"), days[-1].strftime("%m-%d")
        gap = max(1, len(series) * cell - len(first) - len(last))
        out.append(" " * (label_width + 2) + first + " " * gap + last + "\n", style="dim")
    for k, (name, style) in enumerate(zip(names, styles, strict=True)):
        total = sum(col[k] for col in series)
        out.append("■ ", style=style)
        out.append(f"{name} {_fmt(total)}  ")
    return out


def heatmap(counts: dict[dt.date, int], first: dt.date, last: dt.date, style: str,
            width: int) -> Text:
    """A calendar of reviews per day: a column per week (Monday on top), darker for more
    reviews (quarters of the busiest day), months along the top. Cut to the latest weeks
    when ``width`` is short; two cells a week when there is room."""
    start = first - dt.timedelta(days=first.weekday())
    weeks = (last - start).days // 7 + 1
    label = 4
    cell = 2 if label + weeks * 2 <= width else 1
    shown = max(1, min(weeks, (width - label) // cell))
    start += dt.timedelta(weeks=weeks - shown)
    top = max((n for d, n in counts.items() if first <= d <= last), default=0)
    months = [" "] * (shown * cell)
    for w in range(shown):
        monday = start + dt.timedelta(weeks=w)
        for k in range(7):
            day = monday + dt.timedelta(days=k)
            if day.day == 1 and w * cell + 3 <= len(months):
                months[w * cell:w * cell + 3] = day.strftime("%b")
    out = Text(no_wrap=True, overflow="crop")
    total = sum(n for d, n in counts.items() if first <= d <= last)
    studied = sum(1 for d, n in counts.items() if n and first <= d <= last)
    out.append("Reviews in the last year", style="bold")
    out.append(f"  ({_fmt(total)} on {_fmt(studied)} days)\n", style="dim")
    out.append(" " * label + "".join(months).rstrip() + "\n", style="dim")
    for k, name in enumerate(("Mon", "", "Wed", "", "Fri", "", "Sun")):
        out.append(name.ljust(label), style="dim")
        for w in range(shown):
            day = start + dt.timedelta(weeks=w, days=k)
            if day < first or day > last:
                out.append(" " * cell)
                continue
            n = counts.get(day, 0)
            if not n:
                out.append("·".ljust(cell), style="dim")
                continue
            level = min(3, (4 * n - 1) // top) if top else 0
            out.append(HEAT_LEVELS[level].ljust(cell), style=style)
        out.append("\n")
    out.append(" " * label + "less ", style="dim")
    out.append("· ", style="dim")
    out.append(" ".join(HEAT_LEVELS), style=style)
    out.append(f" more (busiest day {_fmt(top)})", style="dim")
    return out


def bars(title: str, labels: Sequence[str], counts: Sequence[int], style: str,
         width: int, *, note: str = "") -> Text:
    """A titled horizontal bar chart: a row per label, the count at the end."""
    out = Text(no_wrap=True, overflow="crop")
    out.append(title, style="bold")
    out.append(f"  {note}\n" if note else "\n", style="dim")
    label_width = max((len(label) for label in labels), default=0)
    count_width = max((len(_fmt(n)) for n in counts), default=1)
    room = max(1, width - label_width - count_width - 3)
    top = max(counts, default=0) or 1
    for label, n in zip(labels, counts, strict=True):
        eighths = max(1, round(n / top * room * 8)) if n else 0
        full, part = divmod(eighths, 8)
        bar = "█" * full + (H_BLOCKS[part] if part else "")
        out.append(label.rjust(label_width) + " ", style="dim")
        out.append(bar, style=style)
        out.append(" " * (room - len(bar) + 1) + _fmt(n).rjust(count_width) + "\n")
    out.rstrip()
    return out


def histogram(title: str, h: Histogram, style: str, width: int, *, unit: str = "",
              scale: float = 1.0) -> Text:
    mean = h.mean
    note = (f"{_fmt(h.cards)} cards" if mean is None
            else f"{_fmt(h.cards)} cards, mean {mean * scale:.1f}{unit}")
    return bars(title, h.labels, h.counts, style, width, note=note)


def state_line(stats: Statistics, palette: Palette, width: int) -> Text:
    """Cards per state: one bar split by state, and its legend."""
    c = stats.cards
    parts = [("new", c.new, palette.new), ("learning", c.learning, palette.learning),
             ("relearning", c.relearning, palette.relearning),
             ("young", c.young, palette.young), ("mature", c.mature, palette.mature),
             ("suspended", c.suspended, "dim"), ("buried", c.buried, "dim"),
             ("unreadable", c.unreadable, "dim")]
    out = Text(no_wrap=True, overflow="crop")
    out.append("Cards", style="bold")
    out.append(f"  ({_fmt(c.total)} in all; leeches: {_fmt(stats.leeches)})\n", style="dim")
    room = max(1, width)
    used = 0
    for k, (_, n, style) in enumerate(parts):
        if not n:
            continue
        cells = round(n / c.total * room) if c.total else 0
        if k == len(parts) - 1 or used + cells > room:
            cells = room - used
        out.append("█" * max(cells, 1 if n else 0), style=style)
        used += max(cells, 1)
    out.append("\n")
    line = 0
    for name, n, style in parts:
        if not n and name in ("relearning", "suspended", "buried", "unreadable"):
            continue
        item = f"{name} {_fmt(n)}  "
        if line + len(item) + 2 > width:
            out.append("\n")
            line = 0
        out.append("■ ", style=style)
        out.append(item)
        line += len(item) + 2
    return out


def _rate(p: PassRate) -> str:
    total = p.passed + p.failed
    return "–" if not total else f"{_percent(p.retention)} of {_fmt(total)}"


def retention_table(stats: Statistics, desired: float) -> Table:
    table = Table(title=f"True retention (desired {desired:.0%})", title_justify="left",
                  title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  show_edge=False)
    table.add_column("")
    for name in ("Young", "Mature", "Total"):
        table.add_column(name, justify="right")
    for name, _ in PERIODS:
        r = stats.retention[name]
        table.add_row(PERIOD_NAMES[name], _rate(r.young), _rate(r.mature), _rate(r.total))
    return table


def buttons_table(stats: Statistics, palette: Palette) -> Table:
    table = Table(title=f"Answer buttons, last {len(stats.days)} days", title_justify="left",
                  title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  show_edge=False)
    table.add_column("")
    for name in RATINGS:
        table.add_column(name.capitalize(), justify="right", header_style=palette.rating(name))
    table.add_column("Correct", justify="right")
    for group in ("learning", "young", "mature"):
        counts = stats.buttons[group]
        total = sum(counts.values())
        correct = _percent((total - counts["again"]) / total if total else None)
        table.add_row(group.capitalize(), *(_fmt(counts[r]) for r in RATINGS), correct)
    return table


def time_text(stats: Statistics) -> Text:
    timed = sum(d.timed for d in stats.days)
    reviews = sum(d.total for d in stats.days)
    seconds = sum(d.milliseconds for d in stats.days) / 1000
    out = Text()
    out.append("Time spent", style="bold")
    out.append(f", last {len(stats.days)} days: ")
    if not reviews:
        out.append("no reviews")
    elif not timed:
        out.append(f"unknown: the log records no answer time for these {_fmt(reviews)} "
                   "reviews")
    else:
        out.append(f"{_duration(seconds)} ({seconds / timed:.1f} s a review)")
        if timed < reviews:
            out.append(f"; {_fmt(reviews - timed)} of {_fmt(reviews)} reviews have no "
                       "recorded time", style="dim")
    today = stats.days[-1]
    if today.timed:
        out.append(f"\nToday: {_duration(today.milliseconds / 1000)}")
    return out


def today_text(report: Report) -> Text:
    s, r = report.states, report.retention
    today = report.per_day[-1] if report.per_day else None
    lines = Text()
    lines.append("Today: ", "bold")
    lines.append(f"{today.total if today else 0} reviewed")
    if today and today.total:
        lines.append(f" (again {today.again}, hard {today.hard}, good {today.good}, "
                     f"easy {today.easy}; {today.new} new)")
    lines.append(f" · left: New {_fmt(s.queue_new)} · Learn {_fmt(s.queue_learning)}"
                 f" · Due {_fmt(s.queue_due)}\n")
    lines.append("Retention ", "bold")
    lines.append(f"(last {r.days} days): actual {_percent(r.actual)}")
    lines.append(f" of {r.total} review{'s' if r.total != 1 else ''}" if r.total else "")
    lines.append(f" · desired {r.desired:.0%}")
    return lines


def hours_chart(stats: Statistics, style: str, width: int) -> Text:
    counts = [p.passed + p.failed for p in stats.hours]
    cell = 3 if width >= 24 * 3 + 6 else 2
    top = max(counts, default=0)
    label_width = max(len(str(top)), 1)
    out = Text(no_wrap=True, overflow="crop")
    out.append(f"Reviews by hour, last {len(stats.days)} days", style="bold")
    busiest = max(range(24), key=lambda h: counts[h]) if top else None
    if busiest is not None:
        out.append(f"  (busiest {busiest}h: {_fmt(top)}, "
                   f"{_percent(stats.hours[busiest].retention)} correct)", style="dim")
    out.append("\n")
    for k, row in enumerate(column_chart(counts, 4, cell)):
        label = str(top) if k == 0 else ("0" if k == 3 else "")
        out.append(label.rjust(label_width) + " │", style="dim")
        out.append(row + "\n", style=style)
    axis = "".join(str(h).ljust(cell * 3) for h in range(0, 24, 3))
    out.append(" " * (label_width + 2) + axis.rstrip(), style="dim")
    return out


# --- the widgets and the screen -----------------------------------------------------------

Draw = Callable[[int, Palette], RenderableType]


class Graph(Widget):
    """Draws ``draw(width, palette)``: again when its width or the theme changes."""

    DEFAULT_CSS = "Graph { height: auto; margin-bottom: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.draw: Draw | None = None

    def show(self, draw: Draw) -> None:
        self.draw = draw
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        if self.draw is None:
            return Text("")
        width = self.size.width or 76
        return self.draw(width, Palette.of(self.app.theme_variables))


def _app(screen: Screen[Any]) -> FlashmarkApp:
    from flashmark.tui.app import FlashmarkApp

    app = screen.app
    assert isinstance(app, FlashmarkApp)
    return app


TABS_KEYS = Binding.Group("Tabs", compact=True)


class StatsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,s", "app.pop_screen", "Back"),
        Binding("left,shift+tab", "tab(-1)", "Previous tab", key_display="←", group=TABS_KEYS,
                priority=True),
        Binding("right,tab", "tab(1)", "Next tab", key_display="→", group=TABS_KEYS,
                priority=True),
        Binding("a", "scope", "Deck/all",
                tooltip="the reviewed deck's statistics, or all decks'"),
        Binding("question_mark", "help", "Keys", key_display="?", tooltip="this list"),
        Binding("1", "show_tab('overview')", "Overview", show=False),
        Binding("2", "show_tab('reviews')", "Reviews", show=False),
        Binding("3", "show_tab('cards')", "Cards", show=False),
    ]
    DEFAULT_CSS = """
    StatsScreen TabbedContent { height: 1fr; }
    StatsScreen TabPane { padding: 0; }
    StatsScreen VerticalScroll { padding: 0 1; }
    StatsScreen Horizontal { height: auto; }
    StatsScreen Horizontal > Graph { width: 1fr; margin-right: 2; }
    """

    def __init__(self, deck: str | None = None) -> None:
        super().__init__(id="stats")
        self.deck = deck  # the deck shown (None: every deck)
        self.review_deck: str | None = deck  # the deck the reviewer was on, for key a
        self.report: Report | None = None
        self.stats: Statistics | None = None

    def compose(self) -> ComposeResult:
        yield Static("flashmark · statistics", id="stats-title")
        with TabbedContent(initial="overview", id="stats-tabs"):
            with TabPane("1 Overview", id="overview"), VerticalScroll():
                yield Static("Reading the review log…", id="stats-summary")
                yield Graph(id="states")
                yield Graph(id="retention")
                yield Graph(id="time")
            with TabPane("2 Reviews", id="reviews"), VerticalScroll():
                yield Graph(id="heatmap")
                yield Graph(id="by-rating")
                yield Graph(id="by-state")
                yield Graph(id="hours")
                yield Graph(id="buttons")
                yield Graph(id="added")
            with TabPane("3 Cards", id="cards"), VerticalScroll():
                yield Graph(id="forecast")
                with Horizontal():
                    yield Graph(id="intervals")
                    yield Graph(id="stability")
                with Horizontal():
                    yield Graph(id="difficulty")
                    yield Graph(id="retrievability")
        yield KeyBar(bar_keys(self.BINDINGS))

    def on_mount(self) -> None:
        if self.review_deck is None:
            from flashmark.tui.review_screen import ReviewScreen

            below = self.app.screen_stack[:-1]
            if below and isinstance(below[-1], ReviewScreen):
                self.review_deck = self.deck = below[-1].deck
        self._title()
        self._load(self.deck)

    def _title(self) -> None:
        scope = "all decks" if self.deck is None else self.deck
        self.query_one("#stats-title", Static).update(
            f"flashmark · {_app(self).vault_name} · statistics · {scope}")

    @work(thread=True, exclusive=True, group="stats")
    def _load(self, deck: str | None) -> None:
        from flashmark.review.overview import vault_report
        from flashmark.statistics import load_statistics

        c = _app(self).ctx
        now = c.clock()
        try:
            report = vault_report(c.root, c.settings, now, use_cache=c.use_cache,
                                  all_notes=c.all_notes, deck=deck)
            self.app.call_from_thread(self.show_report, report)
            stats = load_statistics(c.root, c.settings, now, deck=deck,
                                    use_cache=c.use_cache, all_notes=c.all_notes)
        except FlashmarkError as exc:
            self.app.call_from_thread(self.query_one("#stats-summary", Static).update,
                                      str(exc))
            return
        self.app.call_from_thread(self.show_statistics, stats)

    def show_report(self, report: Report) -> None:
        self.report = report
        self.query_one("#stats-summary", Static).update(today_text(report))
        coming = report.forecast[1:]
        days = [d for d, _ in coming]
        values = [[n] for _, n in coming]
        title = (f"Due in the next {len(coming)} days (today: {_fmt(report.forecast[0][1])},"
                 " overdue included)")
        self.query_one("#forecast", Graph).show(
            lambda w, p: day_chart(title, days, values, ["due"], [p.bar], w))

    def show_statistics(self, stats: Statistics) -> None:
        self.stats = stats
        desired = _app(self).ctx.settings.scheduling.desired_retention
        day_list = [d.day for d in stats.days]
        n = len(stats.days)

        def graph(name: str, draw: Draw) -> None:
            self.query_one(f"#{name}", Graph).show(draw)

        graph("states", lambda w, p: state_line(stats, p, w))
        graph("retention", lambda w, p: retention_table(stats, desired))
        graph("time", lambda w, p: time_text(stats))
        graph("heatmap", lambda w, p: heatmap(stats.heatmap, stats.heatmap_first,
                                              stats.today, p.good, w))
        graph("by-rating", lambda w, p: day_chart(
            f"Reviews per day by rating, last {n} days", day_list,
            [[d.ratings[r] for r in RATINGS] for d in stats.days], RATINGS,
            [p.rating(r) for r in RATINGS], w))
        graph("by-state", lambda w, p: day_chart(
            f"Reviews per day by card state, last {n} days", day_list,
            [[d.states[s] for s in REVIEW_STATES] for d in stats.days], REVIEW_STATES,
            [p.rating(s) for s in REVIEW_STATES], w))
        graph("hours", lambda w, p: hours_chart(stats, p.bar, w))
        graph("buttons", lambda w, p: buttons_table(stats, p))
        graph("added", lambda w, p: day_chart(
            f"Cards first seen per day, last {n} days", day_list,
            [[d.first_seen] for d in stats.days], ["first seen"], [p.new], w, height=3))
        graph("intervals", lambda w, p: histogram("Interval", stats.intervals, p.bar, w,
                                                  unit=" d"))
        graph("stability", lambda w, p: histogram("Stability", stats.stability, p.bar, w,
                                                  unit=" d"))
        graph("difficulty", lambda w, p: histogram("Difficulty", stats.difficulty, p.bar, w))
        graph("retrievability", lambda w, p: histogram(
            "Retrievability now", stats.retrievability, p.bar, w, unit="%", scale=100))

    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#stats-tabs", TabbedContent)
        k = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(k + step) % len(TABS)]

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#stats-tabs", TabbedContent).active = tab

    def action_scope(self) -> None:
        if self.review_deck is None:
            self.notify("Statistics of one deck: open them from its review (s).", timeout=3)
            return
        self.deck = None if self.deck is not None else self.review_deck
        self._title()
        self._load(self.deck)

    def action_help(self) -> None:
        from flashmark.tui.help_screen import HelpScreen

        self.app.push_screen(HelpScreen())
