#!/usr/bin/env python3
"""Writes the expected renders the C# chat-template tests compare against, byte for byte.

Run from the repository root: python3 tests/Dynamo.Router.Tests/Templates/generate_expected.py
Needs jinja2 >= 3.1 only. The environment below mirrors transformers' `_compile_jinja_template`
(src/transformers/utils/chat_template_utils.py): ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True) with the generation-tracking extension and loopcontrols, `tojson` replaced by
json.dumps(ensure_ascii=False, sort_keys=False), and the `raise_exception`/`strftime_now` globals.
`strftime_now` reads a fixed clock so the renders are reproducible; the C# tests inject the same
instant through a TimeProvider.
"""
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "TestData")
TEMPLATES = os.path.join("..", "shared", "fixtures", "chat-templates")
FIXED_NOW = datetime.datetime(2024, 7, 26, 9, 5, 3)


class GenerationTracker(jinja2.ext.Extension):
    """The `{% generation %}` tag as transformers defines it: renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_support"), [], [], body).set_lineno(lineno)

    def _support(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def normalize_messages(messages):
    """What the C# ChatTemplate does to an OpenAI request: tool-call arguments sent as JSON text are parsed."""
    out = []
    for message in messages:
        message = dict(message)
        if isinstance(message.get("tool_calls"), list):
            calls = []
            for call in message["tool_calls"]:
                call = dict(call)
                function = call.get("function")
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    function = dict(function)
                    function["arguments"] = json.loads(function["arguments"])
                    call["function"] = function
                calls.append(call)
            message["tool_calls"] = calls
        out.append(message)
    return out


def render(env, source, context):
    try:
        return {"output": env.from_string(source).render(**context)}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error_kind": "syntax", "error": str(e)}
    except Exception as e:
        if type(e) is jinja2.exceptions.TemplateError:  # what raise_exception raises
            return {"error_kind": "raise_exception", "error": str(e)}
        # UndefinedError, SecurityError, TypeError... from operations inside the template
        return {"error_kind": "python", "error": type(e).__name__ + ": " + str(e)}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def generate_chat_templates(env):
    with open(os.path.join(DATA, "models.json"), encoding="utf-8") as f:
        models = json.load(f)
    scenarios_dir = os.path.join(DATA, "scenarios")
    for template_name in sorted(os.listdir(TEMPLATES)):
        with open(os.path.join(TEMPLATES, template_name), encoding="utf-8", newline="") as f:
            source = f.read()
        tokens = models[template_name]
        stem = template_name[: -len(".jinja")]
        for scenario_name in sorted(os.listdir(scenarios_dir)):
            with open(os.path.join(scenarios_dir, scenario_name), encoding="utf-8") as f:
                request = json.load(f)
            context = {k: v for k, v in tokens.items() if v is not None}
            context.update(request.get("chat_template_kwargs") or {})
            context["messages"] = normalize_messages(request["messages"])
            context["tools"] = request.get("tools")
            context["documents"] = None
            context["add_generation_prompt"] = request.get("add_generation_prompt", True)
            result = render(env, source, context)
            base = os.path.join(DATA, "expected", stem, scenario_name[: -len(".json")])
            for old in (base + ".txt", base + ".error"):
                if os.path.exists(old):
                    os.remove(old)
            if "output" in result:
                write(base + ".txt", result["output"])
            else:
                write(base + ".error", result["error_kind"] + "\n" + result["error"])


def generate_engine_cases(env):
    with open(os.path.join(DATA, "engine_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    expected = {}
    for case in cases:
        expected[case["name"]] = render(env, case["template"], case.get("context", {}))
    write(os.path.join(DATA, "engine_expected.json"), json.dumps(expected, ensure_ascii=False, indent=1) + "\n")


def main():
    if not os.path.isdir(TEMPLATES):
        sys.exit("run from the repository root: " + TEMPLATES + " not found")
    env = make_env()
    generate_chat_templates(env)
    generate_engine_cases(env)


if __name__ == "__main__":
    main()
