"""Routing contexts of a domain (SPEC §6): import, list, show, delete.

    /domain/<D>/routing/.xbin/.import-context --xml <context name="ctx"> ... </context>
    /domain/<D>/routing/.xbin/.import-context --xml-base64 PGNvbnRleHQg...
    /domain/<D>/routing/delete <ctx>

Contexts are kept per domain in the property section `routing_contexts` (context name -> XML);
the routing engine reads them with `routing_contexts(storage, domain)`, which also undoes the
compression of contexts too large to be kept as plain text.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ElementTree
import zlib
from typing import Any

from ..args import Arg, Flag, RawText
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, entry_name_arg, no_entry, publish, storage

__all__ = ["ROUTING_SECTION", "decode_context", "encode_context", "register", "routing_contexts"]

ROUTING_SECTION = "routing_contexts"
#: longest text a property value may hold (ssw.storage.repositories.properties)
_PLAIN_LIMIT = 4096
_COMPRESSED = "zlib:"


def encode_context(xml_text: str) -> str:
    """The stored form: the XML itself, or compressed when it is too long to store as text."""
    if len(xml_text) <= _PLAIN_LIMIT and not xml_text.startswith(_COMPRESSED):
        return xml_text
    packed = _COMPRESSED + base64.b64encode(zlib.compress(xml_text.encode(), 9)).decode()
    if len(packed) > _PLAIN_LIMIT:
        raise CommandError(
            f"the routing context is too large ({len(xml_text)} characters)", cause="too_large"
        )
    return packed


def decode_context(stored: str) -> str:
    if stored.startswith(_COMPRESSED):
        return zlib.decompress(base64.b64decode(stored[len(_COMPRESSED) :])).decode()
    return stored


async def routing_contexts(store: Any, domain: str) -> dict[str, str]:
    """Context name -> XML of every context imported into `domain`."""
    stored = await store.kv.section(domain, ROUTING_SECTION)
    return {name: decode_context(str(value)) for name, value in stored.items()}


def _contexts(xml_text: str) -> dict[str, str]:
    """Context name -> XML of each `<context name="...">` in the document."""
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as exc:
        raise CommandError(
            f"the routing XML is not well-formed: {exc}", cause="invalid_xml"
        ) from None
    if root.tag == "context" and root.get("name"):
        return {root.get("name", ""): xml_text.strip()}  # kept exactly as the operator wrote it
    found = list(root.iter("context"))
    if not found:
        raise CommandError("no <context name=...> element in the XML", cause="invalid_xml")
    contexts: dict[str, str] = {}
    for element in found:
        name = element.get("name", "")
        if not name:
            raise CommandError("a <context> has no name attribute", cause="invalid_xml")
        contexts[name] = ElementTree.tostring(element, encoding="unicode")
    return contexts


def _document(args: Arguments) -> str:
    text: str = args["document"]
    if args.flag("xml-base64"):
        try:
            return base64.b64decode(text.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CommandError(
                "--xml-base64 takes base64 text of an XML document", cause="invalid_xml"
            ) from None
    if args.flag("xml"):
        return text
    raise CommandError("give --xml <document> or --xml-base64 <base64>", cause="invalid_arguments")


def register(registry: Registry) -> None:
    base = "/domain/<D>/routing"
    context = entry_name_arg("context", "context", "the routing context")

    @registry.command(
        f"{base}/.xbin/.import-context",
        help="Import routing contexts from XML (replaces contexts of the same name)",
        args=(Arg("document", RawText(), "the XML document (or its base64), to the end of line"),),
        flags=(
            Flag("xml", "the argument is XML"),
            Flag("xml-base64", "the argument is base64 of the XML"),
        ),
        http_name="routing_import_context",
    )
    async def import_context(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        contexts = _contexts(_document(args))
        encoded = {name: encode_context(text) for name, text in contexts.items()}
        for name, text in encoded.items():
            await storage(ctx).kv.set(domain, ROUTING_SECTION, name, text)
        publish(ctx, "routing", domain, contexts)
        return CommandResult(f"successfully imported: {', '.join(contexts)}", sorted(contexts))

    @registry.command(
        f"{base}/list",
        help="List the routing contexts of the domain",
        role=Role.VIEWER,
        http_name="routing_list",
    )
    async def list_contexts(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        names = sorted(await storage(ctx).kv.section(domain, ROUTING_SECTION))
        return CommandResult("\n".join(names) if names else "No routing contexts", names)

    @registry.command(
        f"{base}/info",
        help="Show the XML of a routing context",
        args=(context,),
        role=Role.VIEWER,
        http_name="routing_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        contexts = await routing_contexts(storage(ctx), domain)
        if args["context"] not in contexts:
            raise no_entry("routing context", args["context"], domain)
        return CommandResult(contexts[args["context"]], contexts[args["context"]])

    @registry.command(
        f"{base}/delete",
        help="Delete a routing context",
        args=(context,),
        http_name="routing_delete",
    )
    async def delete(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        removed = await storage(ctx).kv.clean(domain, ROUTING_SECTION, args["context"])
        if not removed:
            raise no_entry("routing context", args["context"], domain)
        publish(ctx, "routing", domain, [args["context"]])
        return CommandResult(f"Routing context {args['context']} deleted")
