"""LaTeX math -> readable Unicode text, or None when it cannot be converted whole.

The source is parsed by pylatexenc's LaTeX walker (a real parser: groups, macro
arguments, environments); the nodes are written out here: Greek letters, operators and
arrows from pylatexenc's symbol table and this module's, `^`/`_` as Unicode super- and
subscripts where every character has one (else `^(…)`), `\\frac` as `a/b`, `\\sqrt` as
`√`, `\\mathbf`/`\\mathbb`/`\\mathcal`/… as Mathematical Alphanumeric Symbols,
`\\text`/`\\mathrm`/`\\operatorname` as their text, accents as combining marks, and
matrices, `aligned`, `cases` and the like as one line per row (rows separated by
``\\n``). A macro or environment this module does not know makes the whole formula
unconvertible: the caller shows its source, never a half-converted formula.

pylatexenc is imported on the first conversion (about 0.1 s).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["to_unicode"]


class _UnconvertibleError(Exception):
    pass


_SUP = dict(zip("0123456789+-=()inaeoxhjklmprstuvwbdgcfyzABDEGHIJKLMNOPRTUVW′*",
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵃᵉᵒˣʰʲᵏˡᵐᵖʳˢᵗᵘᵛʷᵇᵈᵍᶜᶠʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ′*",
                strict=True))
_SUP.update({"−": "⁻", "α": "ᵅ", "β": "ᵝ", "γ": "ᵞ", "δ": "ᵟ", "θ": "ᶿ", "φ": "ᵠ",
             "χ": "ᵡ", " ": "", "∗": "*", "'": "′", "!": "ꜝ"})
_SUB = dict(zip("0123456789+-=()aeoxhklmnpstijruvβγρφχ",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥᵦᵧᵨᵩᵪ", strict=True))
_SUB.update({"−": "₋", " ": "", ",": ","})

_SPACES = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": "  ", "qquad": "    ",
           "enspace": " ", "thinspace": " ", "medspace": " ", "thickspace": " ",
           "negthinspace": "", "hfill": " ", "nobreak": "", "-": "", "\n": " ",
           "nobreakspace": " ", "space": " "}
_LITERAL = {"{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
            "|": "‖", "backslash": "\\", "lbrace": "{", "rbrace": "}", "lvert": "|",
            "rvert": "|", "lVert": "‖", "rVert": "‖", "vert": "|", "Vert": "‖",
            "implies": "⟹", "impliedby": "⟸", "iff": "⟺", "dots": "…", "ldots": "…",
            "colon": ":", "coloneqq": "≔", "eqqcolon": "≕", "lt": "<", "gt": ">",
            "mid": "∣", "nmid": "∤", "emptyset": "∅", "varnothing": "∅", "ell": "ℓ",
            "lim": "lim", "limsup": "lim sup", "liminf": "lim inf", "argmax": "arg max",
            "argmin": "arg min", "ge": "≥", "le": "≤", "neq": "≠", "ne": "≠", "to": "→",
            "gets": "←", "land": "∧", "lor": "∨", "lnot": "¬", "owns": "∋", "prime": "′",
            "nabla": "∇", "partial": "∂", "infty": "∞", "cdot": "⋅", "times": "×",
            "setminus": "∖", "smallsetminus": "∖", "square": "□", "blacksquare": "■",
            "checkmark": "✓", "circ": "∘", "bullet": "•", "degree": "°", "deg": "deg",
            "det": "det", "dim": "dim", "ker": "ker", "gcd": "gcd", "lcm": "lcm",
            "Pr": "Pr", "sgn": "sgn", "tr": "tr", "rank": "rank", "id": "id",
            "dagger": "†", "ddagger": "‡", "hbar": "ℏ", "Box": "□", "top": "⊤",
            "bot": "⊥", "models": "⊨", "vdash": "⊢", "dashv": "⊣", "approx": "≈",
            "equiv": "≡", "sim": "∼", "simeq": "≃", "cong": "≅", "propto": "∝",
            "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊",
            "rfloor": "⌋", "uparrow": "↑", "downarrow": "↓", "mapsto": "↦",
            "longmapsto": "⟼", "hookrightarrow": "↪", "twoheadrightarrow": "↠",
            "leftrightarrow": "↔", "Leftrightarrow": "⇔", "Rightarrow": "⇒",
            "Leftarrow": "⇐", "rightarrow": "→", "leftarrow": "←",
            "longrightarrow": "⟶", "Longrightarrow": "⟹", "longleftrightarrow": "⟷",
            "Longleftrightarrow": "⟺", "varepsilon": "ε", "epsilon": "ϵ", "varphi": "φ",
            "phi": "ϕ", "vartheta": "ϑ", "varrho": "ϱ", "varsigma": "ς", "varpi": "ϖ",
            "varkappa": "ϰ", "aleph": "ℵ", "Re": "ℜ", "Im": "ℑ", "wp": "℘", "ast": "∗",
            "star": "⋆", "oplus": "⊕", "otimes": "⊗", "ominus": "⊖", "odot": "⊙",
            "pm": "±", "mp": "∓", "div": "÷", "cup": "∪", "cap": "∩", "subset": "⊂",
            "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "in": "∈", "notin": "∉",
            "ni": "∋", "forall": "∀", "exists": "∃", "nexists": "∄", "neg": "¬",
            "wedge": "∧", "vee": "∨", "leq": "≤", "geq": "≥", "ll": "≪", "gg": "≫",
            "perp": "⊥", "parallel": "∥", "angle": "∠", "triangle": "△", "cdots": "⋯",
            "vdots": "⋮", "ddots": "⋱", "therefore": "∴", "because": "∵",
            "sum": "∑", "prod": "∏", "coprod": "∐", "int": "∫", "iint": "∬",
            "iiint": "∭", "oint": "∮", "bigcup": "⋃", "bigcap": "⋂", "bigoplus": "⨁",
            "bigotimes": "⨂", "bigwedge": "⋀", "bigvee": "⋁", "bigsqcup": "⨆",
            "sqcup": "⊔", "sqcap": "⊓", "uplus": "⊎", "biguplus": "⨄", "complement": "∁",
            "nsubseteq": "⊈", "subsetneq": "⊊", "supsetneq": "⊋", "preceq": "⪯",
            "succeq": "⪰", "prec": "≺", "succ": "≻", "leqslant": "⩽", "geqslant": "⩾",
            "lesssim": "≲", "gtrsim": "≳", "triangleq": "≜", "doteq": "≐", "asymp": "≍",
            "bowtie": "⋈", "ltimes": "⋉", "rtimes": "⋊", "wr": "≀", "amalg": "⨿",
            "S": "§", "P": "¶", "textbackslash": "\\", "cdotp": "·", "vdotswithin": "⋮",
            "lvertneqq": "≨", "nleq": "≰", "ngeq": "≱", "nsim": "≁", "ncong": "≇",
            "nequiv": "≢", "nparallel": "∦", "nexist": "∄", "mho": "℧", "eth": "ð",
            "imath": "ı", "jmath": "ȷ", "Finv": "Ⅎ", "beth": "ℶ", "gimel": "ℷ",
            "daleth": "ℸ", "surd": "√", "diamond": "⋄", "lozenge": "◊",
            "bigstar": "★", "clubsuit": "♣", "heartsuit": "♡", "spadesuit": "♠",
            "diamondsuit": "♢", "flat": "♭", "natural": "♮", "sharp": "♯",
            "upharpoonright": "↾", "restriction": "↾", "rightleftharpoons": "⇌",
            "leftrightharpoons": "⇋", "rightharpoonup": "⇀", "nrightarrow": "↛",
            "nleftarrow": "↚", "nRightarrow": "⇏", "nLeftrightarrow": "⇎",
            "Uparrow": "⇑", "Downarrow": "⇓", "updownarrow": "↕", "nearrow": "↗",
            "searrow": "↘", "swarrow": "↙", "nwarrow": "↖", "leadsto": "⇝",
            "circlearrowleft": "↺", "circlearrowright": "↻", "curvearrowright": "↷",
            "longleftarrow": "⟵", "Longleftarrow": "⟸", "iddots": "⋰", "oiint": "∯",
            "textasciitilde": "~", "oiiint": "∰", "lbrack": "[", "rbrack": "]",
            "vDash": "⊨", "Vdash": "⊩", "Diamond": "◇", "texteuro": "€", "euro": "€",
            "And": "&", "nvDash": "⊭", "nvdash": "⊬", "Join": "⨝", "lightning": "↯",
            "ulcorner": "⌜", "urcorner": "⌝", "llcorner": "⌞", "lrcorner": "⌟",
            "textellipsis": "…", "dotsc": "…", "dotsb": "⋯", "dotsm": "⋯", "dotsi": "⋯",
            "dotso": "…", "AA": "Å", "aa": "å", "ss": "ß", "o": "ø", "O": "Ø",
            "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł",
            "exp": "exp", "log": "log", "ln": "ln", "lg": "lg", "sin": "sin",
            "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
            "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "sinh": "sinh",
            "cosh": "cosh", "tanh": "tanh", "coth": "coth", "max": "max", "min": "min",
            "sup": "sup", "inf": "inf", "arg": "arg", "hom": "hom", "Hom": "Hom",
            "mod": " mod ", "bmod": " mod ", "pmod": "", "injlim": "inj lim",
            "projlim": "proj lim", "varliminf": "lim inf", "varlimsup": "lim sup"}
# Dropped: sizing, style and layout commands that change nothing in plain text.
_IGNORED = frozenset({"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl",
                      "Bigr", "biggl", "biggr", "Biggl", "Biggr", "middle", "displaystyle",
                      "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits",
                      "nonumber", "notag", "allowbreak", "newline", "strut", "mathstrut",
                      "relax", "protect", "label", "tag", "phantom", "hphantom", "vphantom",
                      "smash", "rm", "bf", "it", "cal", "sf", "tt", "normalsize", "small",
                      "large", "Large", "tiny", "huge", "Huge", "footnotesize", "centering",
                      "vspace", "hline", "cline", "midrule", "toprule", "bottomrule",
                      "vcenter", "hspace", "ensuremath", "bigm", "Bigm", "mathord",
                      "mathbin", "mathrel", "mathpunct", "mathopen", "mathclose",
                      "mathinner", "color", "textcolor", "colorbox"})
# Commands whose arguments are shown as plain text.
_PLAIN = frozenset({"text", "textrm", "textnormal", "mathrm", "operatorname", "mathop",
                    "mbox", "hbox", "textup", "mathnormal", "textsf", "texttt", "emph",
                    "textit", "textbf", "textmd", "mathit", "mathtt", "mathsf", "textsc",
                    "operatorname*", "boxed", "fbox", "pmb", "underbrace", "overbrace",
                    "bbox", "textsl", "mathring", "lowercase", "uppercase"})
_FONTS = {"mathbf": "bold", "boldsymbol": "bold", "bm": "bold", "mathbb": "double-struck",
          "mathcal": "script", "mathscr": "script", "mathfrak": "fraktur",
          "Bbb": "double-struck", "mathbbm": "double-struck"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0305", "overline": "\u0305",
            "tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307",
            "ddot": "\u0308", "dddot": "\u20db", "underline": "\u0332", "check": "\u030c",
            "breve": "\u0306", "acute": "\u0301", "grave": "\u0300",
            "overrightarrow": "\u20d7", "overleftarrow": "\u20d6", "not": "\u0338",
            "cancel": "\u0338", "mathring": "\u030a", "utilde": "\u0330",
            "widecheck": "\u030c", "overleftrightarrow": "\u20e1", "xcancel": "\u0338",
            "bcancel": "\u0338", "sout": "\u0336"}
_MATRICES = {"matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"),
             "Bmatrix": ("{", "}"), "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"),
             "smallmatrix": ("", ""), "array": ("", ""), "tabular": ("", "")}
_ROWS = frozenset({"aligned", "align", "align*", "alignat", "alignat*", "aligned*",
                   "gather", "gather*", "gathered", "split", "equation", "equation*",
                   "eqnarray", "eqnarray*", "multline", "multline*", "alignedat",
                   "flalign", "flalign*", "subequations", "displaymath", "math"})
# Relations and binary operators: one space on each side, whatever the source had.
_RELATION = re.compile(r"\s*([=<>≤≥∈∉∋⊂⊆⊃⊇⊊⊋→←↔⇒⇐⇔⟹⟸⟺↦∩∪≠≈≡≅≃∼∝∧∨±∓×⊕⊗∖∣≪≫⊢⊨≔])\s*")
# Spaces the source had before a closing bracket or punctuation, after an opening one,
# or between a letter and its argument list: `\\xi )` is `ξ)`, `f̂ (ξ)` is `f̂(ξ)`.
_TIGHT = re.compile(r"\s+(?=[)\]},.;!?])|(?<=[(\[{])\s+"
                    r"|(?<=[\w\u0300-\u036f\u20d0-\u20ff′])\s+(?=\()(?!\(mod )")
_ARITY = {"dfrac": "{{", "tfrac": "{{", "cfrac": "[{{", "binom": "{{", "dbinom": "{{",
          "tbinom": "{{", "overset": "{{", "underset": "{{", "stackrel": "{{",
          "operatorname": "*{", "boldsymbol": "{", "bm": "{", "set": "{", "substack": "{",
          "pmod": "{", "cancel": "{", "bcancel": "{", "xcancel": "{", "boxed": "{",
          "phantom": "{", "hphantom": "{", "vphantom": "{", "mathbbm": "{", "Bbb": "{",
          "mathscr": "{", "xleftarrow": "[{", "overrightarrow": "{", "overleftarrow": "{",
          "widecheck": "{", "utilde": "{", "mathring": "{", "smash": "[{", "bbox": "[{",
          "colorbox": "{{", "textsl": "{", "textup": "{", "dddot": "{", "sout": "{",
          "overleftrightarrow": "{", "overbrace": "{", "underbrace": "{"}
_CASES = frozenset({"cases", "dcases", "rcases", "cases*", "numcases"})


def _font_table() -> dict[str, dict[str, str]]:
    """Letters and digits in the Mathematical Alphanumeric Symbols block."""
    import unicodedata

    tables: dict[str, dict[str, str]] = {}
    names = {"bold": "MATHEMATICAL BOLD", "double-struck": "MATHEMATICAL DOUBLE-STRUCK",
             "script": "MATHEMATICAL SCRIPT", "fraktur": "MATHEMATICAL FRAKTUR"}
    for font, prefix in names.items():
        table: dict[str, str] = {}
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789":
            kind = ("CAPITAL " + c if c.isupper() else "SMALL " + c.upper()
                    if c.isalpha() else "DIGIT " + unicodedata.name(c).split()[-1])
            for name in (f"{prefix} {kind}",
                         {"double-struck": "DOUBLE-STRUCK", "script": "SCRIPT",
                          "fraktur": "BLACK-LETTER"}.get(font, "") + f" {kind}"):
                try:
                    table[c] = unicodedata.lookup(name.strip())
                    break
                except KeyError:
                    continue
        if font == "double-struck":
            table.update({"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ",
                          "Z": "ℤ"})
        if font == "bold":
            table.update(dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
                                  "𝛂𝛃𝛄𝛅𝛆𝛇𝛈𝛉𝛊𝛋𝛌𝛍𝛎𝛏𝛑𝛒𝛔𝛕𝛖𝛗𝛘𝛙𝛚𝚪𝚫𝚯𝚲𝚵𝚷𝚺𝚽𝚿𝛀",
                                  strict=True)))
        tables[font] = table
    return tables


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, dict[str, str]], Any]:
    """Symbol names -> text, the font tables, and a pylatexenc walker factory."""
    from pylatexenc.latex2text import get_default_latex_context_db
    from pylatexenc.latexwalker import LatexWalker
    from pylatexenc.latexwalker import get_default_latex_context_db as walker_db
    from pylatexenc.macrospec import MacroSpec

    # Arguments of macros pylatexenc's walker does not know (it would leave them as
    # groups after an argument-less macro).
    context = walker_db()
    context.add_context_category("flashmark", prepend=True, macros=[
        MacroSpec(name, spec) for name, spec in _ARITY.items()])

    symbols: dict[str, str] = {}
    db = get_default_latex_context_db()
    for category in db.categories():
        for spec in db.iter_macro_specs([category]):
            repl = getattr(spec, "simplify_repl", None)
            name = spec.macroname
            if (isinstance(repl, str) and repl and "%" not in repl and name.isalpha()
                    and not name.startswith(("math", "text"))):
                symbols.setdefault(name, repl)
    symbols.update(_LITERAL)
    symbols.update(_SPACES)
    def walker(source: str) -> Any:
        return LatexWalker(source, latex_context=context, tolerant_parsing=False)

    return symbols, _font_table(), walker


@functools.lru_cache(maxsize=65536)
def to_unicode(source: str) -> str | None:
    """``source`` (the inside of ``$…$`` or ``$$…$$``) as Unicode text, rows separated by
    ``\\n``; None when it holds something this converter does not know."""
    symbols, fonts, walker = _tables()
    try:
        nodes, _, _ = walker(source).get_latex_nodes()
        out = _Writer(symbols, fonts).nodes(nodes)
    except _UnconvertibleError:
        return None
    except Exception:  # pylatexenc's parse errors: unbalanced braces, a lone `\end`, ...
        return None
    lines = [_RELATION.sub(r" \1 ", _TIGHT.sub("", line)).strip() for line in out.split("\n")]
    lines = [" ".join(line.split()) for line in lines]
    shown = "\n".join(line for line in lines if line)
    return shown if shown or not source.strip() else None


class _Writer:
    def __init__(self, symbols: dict[str, str], fonts: dict[str, dict[str, str]]) -> None:
        self.symbols = symbols
        self.fonts = fonts

    def nodes(self, nodes: Sequence[Any] | None) -> str:
        atoms = self._atoms(nodes or [])
        for k, atom in enumerate(atoms):
            infix = getattr(atom, "macroname", None)
            if infix in ("over", "atop", "choose", "brack", "brace"):
                # `{a \over b}`: the macro splits its group in two.
                top = self._written(atoms[:k]).strip()
                bottom = self._written(atoms[k + 1:]).strip()
                if infix == "choose":
                    return f"C({top}, {bottom})"
                top = top if _simple(top) else f"({top})"
                bottom = bottom if _simple(bottom) else f"({bottom})"
                return f"{top}/{bottom}" if infix == "over" else f"({top} {bottom})"
        return self._written(atoms)

    def _written(self, atoms: list[Any]) -> str:
        out: list[str] = []
        k = 0
        while k < len(atoms):
            atom = atoms[k]
            if type(atom) is str:  # a `^` or `_` operator (characters are _Char)
                if k + 1 >= len(atoms):
                    raise _UnconvertibleError
                arg = atoms[k + 1]
                if out:  # `\\sum _{i}`: the script belongs to what stands before it
                    out[-1] = out[-1].rstrip(" ")
                out.append(self._script(self._atom(arg).strip(), sup=atom == "^"))
                k += 2
                continue
            out.append(self._atom(atom))
            k += 1
        return "".join(out)

    def _atoms(self, nodes: Sequence[Any]) -> list[Any]:
        """Characters one by one (as single-character strings), other nodes whole;
        `^`/`_` operators are plain ``str``, every other character a :class:`_Char`."""
        atoms: list[Any] = []
        for node in nodes:
            if node is None:
                continue
            kind = type(node).__name__
            if kind == "LatexCharsNode":
                for c in node.chars:
                    atoms.append(c if c in "^_" else _Char(c))
            elif kind == "LatexCommentNode":
                continue
            else:
                atoms.append(node)
        return atoms

    def _atom(self, atom: Any) -> str:
        if isinstance(atom, _Char):
            c = str(atom)
            if c == "-":
                return "−"
            if c == "~":
                return " "
            if c == "'":
                return "′"
            return c
        if isinstance(atom, str):
            raise _UnconvertibleError  # a second ^ or _
        kind = type(atom).__name__
        if kind == "LatexGroupNode":
            return self.nodes(atom.nodelist)
        if kind == "LatexMacroNode":
            return self._macro(atom)
        if kind == "LatexEnvironmentNode":
            return self._environment(atom)
        if kind == "LatexSpecialsNode":
            chars = atom.specials_chars
            if chars == "&":
                return "\t"
            if chars == "~":
                return " "
            return str(chars).replace("--", "–")
        if kind == "LatexMathNode":
            return self.nodes(atom.nodelist)
        raise _UnconvertibleError

    def _args(self, node: Any) -> list[Any]:
        argd = getattr(node, "nodeargd", None)
        return list(argd.argnlist) if argd is not None and argd.argnlist else []

    def _macro(self, node: Any) -> str:
        name = node.macroname
        args = self._args(node)
        post = getattr(node, "macro_post_space", "")
        if name in _IGNORED:
            return ""
        if name == "\\":
            return "\n"
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, [a for a in args])
        if name in _ACCENTS:
            body = self.nodes([a for a in args if a is not None][-1:]).strip() if args else ""
            mark = _ACCENTS[name]
            return "".join(c + mark if not c.isspace() else c for c in body)
        if name in _FONTS:
            table = self.fonts[_FONTS[name]]
            body = self.nodes([a for a in args if a is not None])
            return "".join(table.get(c, c) for c in body)
        if name in _PLAIN:
            return "".join(self.nodes([a]) for a in args if a is not None)
        if name in self.symbols and not args:
            shown = self.symbols[name]
            return shown + (" " if post and shown.strip() else "")  # `\\ge r`: ≥ r
        raise _UnconvertibleError("\\" + name)

    def _environment(self, node: Any) -> str:
        name = node.environmentname
        body = self.nodes(node.nodelist)
        rows = [row.strip() for row in body.split("\n")]
        rows = [r for r in rows if r]
        if name in _MATRICES:
            left, right = _MATRICES[name]
            cells = [[c.strip() for c in r.split("\t")] for r in rows]
            width = max((len(r) for r in cells), default=0)
            sizes = [max((len(r[n]) for r in cells if n < len(r)), default=0)
                     for n in range(width)]
            lines = ["  ".join(c.ljust(sizes[n]) for n, c in enumerate(r)).rstrip()
                     for r in cells]
            return "\n" + "\n".join(f"{left}{line}{right}" for line in lines) + "\n"
        if name in _CASES:
            lines = [" ".join(c.strip() for c in r.split("\t")) for r in rows]
            return "\n" + "\n".join("{ " + line for line in lines) + "\n"
        if name in _ROWS:
            return "\n" + "\n".join(r.replace("\t", " ") for r in rows) + "\n"
        raise _UnconvertibleError("env " + name)

    def _script(self, text: str, *, sup: bool) -> str:
        table = _SUP if sup else _SUB
        if text and all(c in table for c in text):
            return "".join(table[c] for c in text)
        if sup and text in ("′", "′′", "′′′", "∗", "†", "∘", "*"):
            return text
        mark = "^" if sup else "_"
        return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


class _Char(str):
    """A character of the source (as opposed to a `^`/`_` operator)."""


def _simple(text: str) -> bool:
    return len(text) <= 1 or text.isalnum()


def _frac(w: _Writer, args: list[Any]) -> str:
    parts = [w.nodes([a]).strip() for a in args if a is not None]
    if len(parts) != 2:
        raise _UnconvertibleError
    top, bottom = (p if _simple(p) else f"({p})" for p in parts)
    return f"{top}/{bottom}"


def _sqrt(w: _Writer, args: list[Any]) -> str:
    degree = w.nodes([args[0]]).strip() if len(args) > 1 and args[0] is not None else ""
    body = w.nodes([args[-1]]).strip() if args and args[-1] is not None else ""
    root = {"": "√", "3": "∛", "4": "∜"}.get(degree) or w._script(degree, sup=True) + "√"
    return root + (body if _simple(body) else f"({body})")


def _binom(w: _Writer, args: list[Any]) -> str:
    parts = [w.nodes([a]) for a in args if a is not None]
    if len(parts) != 2:
        raise _UnconvertibleError
    return f"C({parts[0]}, {parts[1]})"


def _over(w: _Writer, args: list[Any]) -> str:
    """`\\overset{a}{b}`, `\\stackrel{a}{b}`: b with a above it, written b^a."""
    parts = [w.nodes([a]) for a in args if a is not None]
    if len(parts) != 2:
        raise _UnconvertibleError
    return parts[1] + w._script(parts[0], sup=True)


def _under(w: _Writer, args: list[Any]) -> str:
    parts = [w.nodes([a]) for a in args if a is not None]
    if len(parts) != 2:
        raise _UnconvertibleError
    return parts[1] + w._script(parts[0], sup=False)


def _pmod(w: _Writer, args: list[Any]) -> str:
    return f" (mod {w.nodes([a for a in args if a is not None])})"


def _set(w: _Writer, args: list[Any]) -> str:
    return "{" + w.nodes([a for a in args if a is not None]) + "}"


def _substack(w: _Writer, args: list[Any]) -> str:
    return ", ".join(r.strip() for r in w.nodes([a for a in args if a is not None]).split("\n"))


def _arrow(arrow: str) -> Callable[[_Writer, list[Any]], str]:
    def write(w: _Writer, args: list[Any]) -> str:
        above = w.nodes([a for a in args if a is not None][-1:])
        return f" ─{above}{arrow} " if above else f" {arrow} "
    return write


def _last(w: _Writer, args: list[Any]) -> str:
    return w.nodes([a for a in args if a is not None][-1:])


_HANDLERS: dict[str, Callable[[_Writer, list[Any]], str]] = {
    "frac": _frac, "dfrac": _frac, "tfrac": _frac, "cfrac": _frac, "sqrt": _sqrt,
    "binom": _binom, "dbinom": _binom, "tbinom": _binom, "overset": _over,
    "stackrel": _over, "underset": _under, "pmod": _pmod, "textcolor": _last,
    "color": lambda w, a: "", "colorbox": _last, "set": _set, "substack": _substack,
    "xrightarrow": _arrow("→"), "xleftarrow": _arrow("←"),
}
