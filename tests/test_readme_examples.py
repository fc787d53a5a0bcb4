"""The README's "The API in five minutes", run as printed against a real `python app.py --demo`.

The shell block is taken from README.md; only the printed key (`KEY=fu_...`) and the server in
the `API=` line are replaced. Each command runs in one bash session (so `TASK=...` carries over)
with curl, and what it prints is checked against the answer the README shows under it:

    # → {"data": {"id": "task_…", "status": "pending", …}, …}
    #    (continued on lines like this one)

An answer is JSON, shortened with `…`: inside a string it stands for any text; as an item of an
object or a list, for more keys or items (the listed ones must be there; list items in any
order). Without `…` an object has exactly the keys shown and a list exactly the items shown. A
command the README shows no answer for must print nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port, require_tool, wait_for

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## The API in five minutes"
KEY_LINE = re.compile(r"^KEY=(fu_\.\.\.)(\s|$)", re.M)
API_LINE = re.compile(r"^API=(http://127\.0\.0\.1:5000)/api/v1$", re.M)
ANSWER_START = "# → "
MORE = "__more__"


def readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no ```sh block in the README's API section"
    return match.group(1)


@dataclass
class Step:
    command: str
    answer: str | None  # the README's answer, joined into one line


def steps_of(block: str) -> list[Step]:
    """Commands are runs of lines that are neither blank nor comments; an answer is the
    `# → ` line right after a command and the indented comment lines that follow it."""
    steps: list[Step] = []
    command: list[str] = []
    answer: list[str] | None = None

    def close():
        nonlocal command, answer
        if command:
            steps.append(Step("\n".join(command), " ".join(answer) if answer is not None else None))
        command, answer = [], None

    for line in block.splitlines():
        if line.startswith(ANSWER_START):
            assert command and answer is None, f"an answer without a command before it: {line}"
            answer = [line[len(ANSWER_START):].strip()]
        elif answer is not None and re.match(r"#\s{2,}\S", line):
            answer.append(line[1:].strip())
        elif not line.strip() or line.lstrip().startswith("#"):
            close()
        else:
            if answer is not None:
                close()
            command.append(line)
    close()
    return steps


def parse_answer(text: str):
    """The README's shortened JSON, as JSON: a bare `…` becomes a MORE marker."""
    out, stack, in_string, escaped = [], [], False, False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch in "{[":
            stack.append(ch)
            out.append(ch)
        elif ch in "}]":
            stack.pop()
            out.append(ch)
        elif ch == "…":
            out.append(f'"{MORE}": true' if stack and stack[-1] == "{" else f'"{MORE}"')
        else:
            out.append(ch)
    return json.loads("".join(out))


def mismatch(expected, actual, path: str = "$") -> str | None:
    """Where `actual` differs from the README's shortened answer, or None when it fits."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        more = expected.get(MORE, False)
        keys = [k for k in expected if k != MORE]
        missing = [k for k in keys if k not in actual]
        if missing:
            return f"{path}: no {missing} in {sorted(actual)}"
        if not more and set(actual) != set(keys):
            return f"{path}: unexpected keys {sorted(set(actual) - set(keys))}"
        for key in keys:
            found = mismatch(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {actual!r}"
        patterns = [item for item in expected if item != MORE]
        if MORE not in expected:
            if len(patterns) != len(actual):
                return f"{path}: expected {len(patterns)} items, got {len(actual)}"
            for i, (pattern, item) in enumerate(zip(patterns, actual, strict=True)):
                found = mismatch(pattern, item, f"{path}[{i}]")
                if found:
                    return found
            return None
        unused = list(range(len(actual)))
        for i, pattern in enumerate(patterns):
            fit = next((j for j in unused if mismatch(pattern, actual[j]) is None), None)
            if fit is None:
                return f"{path}: no item fits {pattern!r} (item {i} shown)"
            unused.remove(fit)
        return None
    if isinstance(expected, str) and "…" in expected:
        regex = ".*".join(re.escape(part) for part in expected.split("…"))
        if not isinstance(actual, str) or not re.fullmatch(regex, actual, re.S):
            return f"{path}: {actual!r} does not fit {expected!r}"
        return None
    if expected != actual or type(expected) is not type(actual):
        return f"{path}: expected {expected!r}, got {actual!r}"
    return None


# --- the matcher itself, on small cases, so that a lenient matcher cannot pass the README -------

@pytest.mark.parametrize(("shown", "actual", "fits"), [
    ('{"a": 1, …}', {"a": 1, "b": 2}, True),
    ('{"a": 1}', {"a": 1, "b": 2}, False),
    ('{"a": 1, …}', {"b": 2}, False),
    ('{"id": "task_…"}', {"id": "task_01ABC"}, True),
    ('{"id": "task_…"}', {"id": "cont_01ABC"}, False),
    ('{"at": "…Z"}', {"at": "2026-01-01T00:00:00Z"}, True),
    ('[{"k": 2}, …]', [{"k": 1}, {"k": 2}], True),
    ('[{"k": 2}, {"k": 2}, …]', [{"k": 1}, {"k": 2}], False),
    ('[{"k": 1}]', [{"k": 1}, {"k": 2}], False),
    ('[]', [], True),
    ("200", 200, True),
    ("200", 201, False),
    ('{"s": "a…b"}', {"s": "a, …b"}, True),
    ('{"t": true}', {"t": 1}, False),
])
def test_shortened_answers_match_only_what_they_show(shown, actual, fits):
    assert (mismatch(parse_answer(shown), actual) is None) is fits


def test_the_readme_block_is_parsed_into_commands_and_answers():
    steps = steps_of(readme_block())
    assert len(steps) >= 8
    assert sum(1 for s in steps if s.answer) >= 7
    for step in steps:
        if step.answer:
            parse_answer(step.answer)  # every answer shown is readable
    commands = "\n".join(s.command for s in steps)
    for placeholder in ("user_...", "task_...", "cont_..."):
        assert placeholder not in commands
    assert "owner_id=me" in commands and "/users/me" in commands


# --- the real thing -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`python app.py --demo --port N` on a fresh instance folder: (base URL, printed key)."""
    folder = tmp_path_factory.mktemp("readme-demo")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT")}
    env.update(CRM_INSTANCE_PATH=str(folder / "instance"), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    out_path = folder / "stdout.txt"
    with open(out_path, "wb") as out, open(folder / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "app.py", "--demo", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=err, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/login", timeout=180, proc=proc)
        printed = out_path.read_text()
        key = re.search(r"API key:\s+(fu_\S+)", printed)
        assert key, printed
        assert f"Sign in:  {base}/login" in printed
        yield base, key.group(1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_every_command_of_the_api_in_five_minutes_answers_as_the_readme_shows(demo_server, tmp_path):
    bash, _curl = require_tool("bash"), require_tool("curl")
    require_tool("python3")
    base, key = demo_server
    block = readme_block()
    assert len(KEY_LINE.findall(block)) == 1 and len(API_LINE.findall(block)) == 1
    block = KEY_LINE.sub(lambda m: f"KEY={key}{m.group(2)}", block)
    block = API_LINE.sub(f"API={base}/api/v1", block)
    steps = steps_of(block)

    # One bash session for the whole block; a marker line before each command splits its output.
    marker = "::readme-step-{}::"
    script = ["set -e -o pipefail"]
    for i, step in enumerate(steps):
        script += [f"printf '\\n{marker.format(i)}\\n'", step.command]
    result = subprocess.run([bash, "-c", "\n".join(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert result.stderr == ""

    outputs = re.split(r"\n::readme-step-\d+::\n", result.stdout)[1:]
    assert len(outputs) == len(steps)
    for step, output in zip(steps, outputs, strict=True):
        if step.answer is None:
            assert output.strip() == "", (step.command, output)
            continue
        assert output.strip(), f"no answer from:\n{step.command}"
        actual = json.loads(output)
        problem = mismatch(parse_answer(step.answer), actual)
        assert problem is None, f"{step.command}\n{problem}\nanswer: {output[:1500]}"
