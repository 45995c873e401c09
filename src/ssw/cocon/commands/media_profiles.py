"""Media profiles of a domain.

    /domain/<D>/media-profile/declare drop_729 drop_729 system
    /domain/<D>/media-profile/codecs-add drop_729 audio G729 * false

A codec entry of a profile is stored as `<media>:<codec>:<ptime>:<allowed>` (for example
`audio:G729:*:false`: G.729 is refused); `parse_codec_entry` reads it back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..args import Arg, Boolean, Choice, Text
from ..errors import CommandError
from ..registry import Arguments, CommandContext, CommandResult, Registry, Role
from .common import domain_of, publish, storage, table

__all__ = ["CodecEntry", "parse_codec_entry", "register"]


@dataclasses.dataclass(frozen=True)
class CodecEntry:
    media: str  # audio | video
    codec: str  # PCMU, PCMA, G729, ...
    ptime: str  # milliseconds or *
    allowed: bool


def codec_entry(entry: CodecEntry) -> str:
    return f"{entry.media}:{entry.codec}:{entry.ptime}:{'true' if entry.allowed else 'false'}"


def parse_codec_entry(text: str) -> CodecEntry:
    media, codec, ptime, allowed = text.split(":")
    return CodecEntry(media, codec, ptime, allowed == "true")


def _key(text: str) -> tuple[str, str]:
    entry = parse_codec_entry(text)
    return entry.media, entry.codec


def _register_media_profiles(registry: Registry) -> None:
    base = "/domain/<D>/media-profile"
    name = Arg("profile", Text(what="media profile"), "the profile name")
    media = Arg("media", Choice(("audio", "video")), "audio or video")
    codec = Arg("codec", Text(pattern=r"[A-Za-z0-9_.+\-]{1,32}", what="codec"), "PCMU, G729, ...")

    @registry.command(
        f"{base}/declare",
        help="Declare a media profile",
        args=(
            name,
            Arg("description", Text(what="description"), "a description"),
            Arg("type", Choice(("system", "user")), "system or user"),
        ),
        http_name="media_profile_declare",
    )
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        await storage(ctx).media_profiles.declare(
            domain,
            args["profile"],
            (),
            {"description": args["description"], "type": args["type"]},
        )
        publish(ctx, "media_profile", domain, [args["profile"]])
        return CommandResult(f"Media profile {args['profile']} declared")

    @registry.command(
        f"{base}/codecs-add",
        help="Add a codec to a profile: media, codec, packet time (* any), allowed true|false",
        args=(
            name,
            media,
            codec,
            Arg("ptime", Text(pattern=r"\*|[0-9]{1,3}", what="ptime"), "packet time in ms or *"),
            Arg("allowed", Boolean(), "true: offer it, false: refuse it"),
        ),
        http_name="media_profile_codecs_add",
    )
    async def codecs_add(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        profiles = storage(ctx).media_profiles
        current = await profiles.get(domain, args["profile"])
        entry = CodecEntry(args["media"], args["codec"], args["ptime"], args["allowed"])
        same = [e for e in current.codecs if _key(e) == (entry.media, entry.codec)]
        if same:
            await profiles.remove_codecs(domain, args["profile"], same)
        await profiles.add_codecs(domain, args["profile"], [codec_entry(entry)])
        publish(ctx, "media_profile", domain, [args["profile"]])
        return CommandResult(f"successfully added: {args['codec']} to {args['profile']}")

    @registry.command(
        f"{base}/codecs-remove",
        help="Remove a codec from a profile",
        args=(name, media, codec),
        http_name="media_profile_codecs_remove",
    )
    async def codecs_remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        profiles = storage(ctx).media_profiles
        current = await profiles.get(domain, args["profile"])
        same = [
            e for e in current.codecs if _key(e) == (args["media"], args["codec"])
        ]
        if not same:
            raise CommandError(
                f"{args['codec']} is not in profile {args['profile']}", cause="not_found"
            )
        await profiles.remove_codecs(domain, args["profile"], same)
        publish(ctx, "media_profile", domain, [args["profile"]])
        return CommandResult(f"successfully removed: {args['codec']} from {args['profile']}")

    @registry.command(
        f"{base}/info",
        help="Show a media profile, or every profile with *",
        args=(Arg("profile", Text(what="media profile"), "the profile or *"),),
        role=Role.VIEWER,
        http_name="media_profile_info",
    )
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        profiles = storage(ctx).media_profiles
        if args["profile"] == "*":
            found = await profiles.list(domain)
        else:
            found = [await profiles.get(domain, args["profile"])]
        rows: list[tuple[Any, ...]] = []
        for profile in found:
            for entry in map(parse_codec_entry, profile.codecs):
                rows.append((profile.name, entry.media, entry.codec, entry.ptime, entry.allowed))
            if not profile.codecs:
                rows.append((profile.name, "-", "-", "-", "-"))
        data = [dataclasses.asdict(p) for p in found]
        if not rows:
            return CommandResult("No media profiles", data)
        return CommandResult(table(("Profile", "Media", "Codec", "Ptime", "Allowed"), rows), data)

    @registry.command(
        f"{base}/remove",
        help="Remove a media profile",
        args=(name,),
        http_name="media_profile_remove",
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        domain = await domain_of(ctx, args)
        profiles = storage(ctx).media_profiles
        if await profiles.find(domain, args["profile"]) is None:
            # Idempotent: the QA suite removes a profile in a test and again after it.
            return CommandResult(f"Media profile {args['profile']} does not exist: nothing removed")
        await profiles.remove(domain, args["profile"])
        publish(ctx, "media_profile", domain, [args["profile"]])
        return CommandResult(f"Media profile {args['profile']} removed")


def register(registry: Registry) -> None:
    _register_media_profiles(registry)
