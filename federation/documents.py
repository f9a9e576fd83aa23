"""Node objects → ActivityStreams JSON: library actors, the instance actor, measures, activities.

The bibnetz extension fields travel under an inline JSON-LD context (the same document is
served at /ns/bibnetz), so peers need not fetch anything to read them, and Mastodon ignores
what it does not know.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from federation import urls
from federation.proofs import create_proof, encode_multikey_ed25519
from node.keypairs import load_ed25519_private
from node.markup import render_markdown
from node.models import Instance, Library, LibraryKeys, Measure, ToolkitResult
from node.settings import Settings
from node.vocab import Vocabularies

NS = "https://bibnetz.org/ns#"

# Compact names of the extension fields and their IRIs; vocabulary values are term URIs.
EXTENSION_TERMS: dict[str, Any] = {
    "bibnetz": NS,
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "Hashtag": "as:Hashtag",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "bibnetzNode": "bibnetz:bibnetzNode",
    "library": {"@id": "bibnetz:library", "@type": "@json"},
    "toolkit": {"@id": "bibnetz:toolkit", "@type": "@json"},
    "measureKind": {"@id": "bibnetz:measureKind", "@type": "@id"},
    "fieldsOfAction": {"@id": "bibnetz:fieldsOfAction", "@type": "@id", "@container": "@set"},
    "targetGroups": {"@id": "bibnetz:targetGroups", "@type": "@id", "@container": "@set"},
    "formats": {"@id": "bibnetz:formats", "@type": "@id", "@container": "@set"},
    "partners": {"@id": "bibnetz:partners", "@type": "@id", "@container": "@set"},
    "effort": {"@id": "bibnetz:effort", "@type": "@id"},
    "costBand": {"@id": "bibnetz:costBand", "@type": "@id"},
    "measureStatus": {"@id": "bibnetz:measureStatus", "@type": "@id"},
    "volunteersInvolved": "bibnetz:volunteersInvolved",
    "funding": "bibnetz:funding",
    "duration": "bibnetz:duration",
    "license": {"@id": "http://purl.org/dc/terms/license", "@type": "@id"},
    "language": "http://purl.org/dc/terms/language",
    "cooperation": {"@id": "bibnetz:cooperation", "@type": "@json"},
    "librarySnapshot": {"@id": "bibnetz:librarySnapshot", "@type": "@json"},
    "keywords": "schema:keywords",
}

LICENCE_URIS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "all-rights-reserved": "https://bibnetz.org/licences/all-rights-reserved",
}


def context() -> list[Any]:
    """The @context of every document the node serves."""
    return [
        urls.AS_CONTEXT,
        urls.SECURITY_CONTEXT,
        urls.DATA_INTEGRITY_CONTEXT,
        EXTENSION_TERMS,
    ]


def context_document() -> dict[str, Any]:
    """The JSON-LD context served at /ns/bibnetz."""
    return {"@context": EXTENSION_TERMS}


def iso(moment: datetime) -> str:
    """An xsd:dateTime in UTC with a Z suffix, as Mastodon writes them."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _term_uris(vocab: Vocabularies, scheme: str, ids: list[str]) -> list[str]:
    return [vocab.term_uri(scheme, term) for term in ids]


def _term_uri(vocab: Vocabularies, scheme: str, term: str | None) -> str | None:
    return vocab.term_uri(scheme, term) if term else None


def _hashtag(label: str) -> str:
    # "Leseförderung & Literacy" → "#LeseförderungLiteracy": hashtags cannot hold spaces.
    words = re.findall(r"\w+", label)
    return "#" + "".join(w[:1].upper() + w[1:] for w in words)


LIBRARY_NUMBER_KEYS = {
    "population": "population",
    "public_area_m2": "publicAreaM2",
    "staff_fte": "staffFte",
    "volunteers": "volunteers",
    "volunteer_fte": "volunteerFte",
    "opening_hours": "openingHours",
    "media_stock": "mediaStock",
    "loans": "loans",
    "events": "events",
    "reference_year": "referenceYear",
}
LIBRARY_TEXT_KEYS = {
    "town": "town",
    "ags": "ags",
    "isil": "isil",
    "dbs_id": "dbsId",
    "website": "website",
    "contact_email": "contactEmail",
}


def library_profile(vocab: Vocabularies, library: Library) -> dict[str, Any]:
    """The `library` extension object: kind, place, identifiers and DBS numbers."""
    profile: dict[str, Any] = {
        "kind": vocab.term_uri("organisation-kinds", library.kind),
        "federalState": _term_uri(vocab, "federal-states", library.federal_state),
        "operatorType": _term_uri(vocab, "operator-types", library.operator_type),
    }
    for column, key in {**LIBRARY_TEXT_KEYS, **LIBRARY_NUMBER_KEYS}.items():
        profile[key] = getattr(library, column)
    return {k: v for k, v in profile.items() if v not in (None, "")}


def toolkit_profile(vocab: Vocabularies, result: ToolkitResult) -> dict[str, Any]:
    """Public Toolkit workshop results as the `toolkit` extension object."""
    return {
        "workshopDate": result.workshop_date.isoformat() if result.workshop_date else None,
        "ratings": {
            vocab.term_uri("fields-of-action", term): entry
            for term, entry in result.ratings.items()
        },
        "priorityFields": _term_uris(vocab, "fields-of-action", result.priority_fields),
        "priorityTargetGroups": _term_uris(vocab, "target-groups", result.priority_target_groups),
        "plannedMeasures": list(result.planned_measures),
    }


def _attachments(vocab: Vocabularies, library: Library, lang: str = "de") -> list[dict[str, Any]]:
    # Profile fields Mastodon shows as a table under the bio.
    fields: list[tuple[str, str]] = []
    if library.population is not None:
        fields.append(("Einwohner*innen", f"{library.population:,}".replace(",", ".")))
    if library.public_area_m2 is not None:
        fields.append(("Publikumsfläche", f"{library.public_area_m2:g} m²"))
    if library.staff_fte is not None:
        fields.append(("Personal (VZÄ)", f"{library.staff_fte:g}".replace(".", ",")))
    if library.federal_state:
        fields.append(("Bundesland", vocab["federal-states"].label(library.federal_state, lang)))
    if library.website:
        url = library.website
        fields.append(("Website", f'<a href="{url}" rel="me nofollow noopener">{url}</a>'))
    return [{"type": "PropertyValue", "name": name, "value": value} for name, value in fields]


def library_actor(
    settings: Settings,
    vocab: Vocabularies,
    library: Library,
    keys: LibraryKeys,
    toolkit: ToolkitResult | None = None,
) -> dict[str, Any]:
    """The actor document of a local library (Organization, or Group for an association)."""
    actor = urls.actor_id(settings, library.handle)
    ed_key = load_ed25519_private(keys.ed25519_private_pem).public_key()
    doc: dict[str, Any] = {
        "@context": context(),
        "id": actor,
        "type": "Group" if library.kind == "association" else "Organization",
        "preferredUsername": library.handle,
        "name": library.name,
        "summary": render_markdown(library.summary) if library.summary else "",
        "url": actor,
        "inbox": urls.inbox(settings, library.handle),
        "outbox": urls.outbox(settings, library.handle),
        "followers": urls.followers(settings, library.handle),
        "following": urls.following(settings, library.handle),
        "endpoints": {"sharedInbox": urls.shared_inbox(settings)},
        "icon": {"type": "Image", "mediaType": "image/png", "url": _icon_url(settings)},
        "published": iso(library.created_at),
        "manuallyApprovesFollowers": library.manually_approves_followers,
        "discoverable": library.discoverable,
        "indexable": library.indexable,
        "publicKey": {
            "id": urls.key_id(settings, library.handle),
            "owner": actor,
            "publicKeyPem": keys.rsa_public_pem,
        },
        "assertionMethod": [
            {
                "id": urls.ed25519_key_id(settings, library.handle),
                "type": "Multikey",
                "controller": actor,
                "publicKeyMultibase": encode_multikey_ed25519(ed_key),
            }
        ],
        "attachment": _attachments(vocab, library),
        "bibnetzNode": True,
        "library": library_profile(vocab, library),
    }
    if toolkit is not None and toolkit.visibility == "public":
        doc["toolkit"] = toolkit_profile(vocab, toolkit)
    return doc


def _icon_url(settings: Settings) -> str:
    return f"{settings.public_url}/static/library-icon.png"


def instance_actor(settings: Settings, instance: Instance) -> dict[str, Any]:
    """The node's Application actor; it signs fetches for servers in authorized-fetch mode."""
    actor = urls.instance_actor(settings)
    return {
        "@context": context(),
        "id": actor,
        "type": "Application",
        "preferredUsername": settings.domain.replace(":", "."),
        "name": settings.node_name,
        "summary": "bibnetz node",
        "url": settings.public_url + "/",
        "inbox": urls.shared_inbox(settings),
        "outbox": actor + "/outbox",
        "endpoints": {"sharedInbox": urls.shared_inbox(settings)},
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "indexable": False,
        "publicKey": {
            "id": urls.instance_key_id(settings),
            "owner": actor,
            "publicKeyPem": instance.rsa_public_pem,
        },
    }


def measure_article(
    settings: Settings, vocab: Vocabularies, measure: Measure, library: Library, keys: LibraryKeys
) -> dict[str, Any]:
    """A local measure as a signed Article (FEP-8b32 proof by the library's Ed25519 key)."""
    actor = urls.actor_id(settings, library.handle)
    object_id = urls.measure_id(settings, measure.uid)
    fields_scheme = vocab["fields-of-action"]
    body_html = render_markdown(measure.body) if measure.body else ""
    tags = [
        {
            "type": "Hashtag",
            "name": _hashtag(next(iter(t.alt_labels), t.label("de"))),
            "href": t.uri,
        }
        for t in (fields_scheme.get(term) for term in measure.fields_of_action)
        if t is not None
    ] + [
        {"type": "Hashtag", "name": _hashtag(tag), "href": f"{settings.public_url}/tags/{tag}"}
        for tag in measure.tags
    ]
    doc: dict[str, Any] = {
        "@context": context(),
        "id": object_id,
        "type": "Article",
        "name": measure.title,
        "summary": measure.summary or None,
        "content": body_html,
        "mediaType": "text/html",
        "source": {"content": measure.body, "mediaType": "text/markdown"},
        "url": object_id,
        "attributedTo": actor,
        "published": iso(measure.published_at),
        "updated": iso(measure.updated_at),
        "to": [urls.PUBLIC],
        "cc": [urls.followers(settings, library.handle)],
        "tag": tags,
        "contentMap": {measure.language: body_html},
        "measureKind": _term_uri(vocab, "measure-kinds", measure.kind),
        "fieldsOfAction": _term_uris(vocab, "fields-of-action", measure.fields_of_action),
        "targetGroups": _term_uris(vocab, "target-groups", measure.target_groups),
        "formats": _term_uris(vocab, "formats", measure.formats),
        "partners": _term_uris(vocab, "partners", measure.partners),
        "keywords": list(measure.tags),
        "effort": _term_uri(vocab, "effort", measure.effort),
        "costBand": _term_uri(vocab, "cost-bands", measure.cost_band),
        "measureStatus": _term_uri(vocab, "statuses", measure.status),
        "volunteersInvolved": measure.volunteers_involved,
        "funding": measure.funding or None,
        "duration": measure.duration or None,
        "license": LICENCE_URIS.get(measure.licence, measure.licence),
        "language": measure.language,
        "librarySnapshot": {
            "population": measure.snapshot_population,
            "publicAreaM2": measure.snapshot_area_m2,
            "staffFte": measure.snapshot_fte,
        },
    }
    if measure.kind in ("cooperation-offer", "cooperation-request"):
        doc["cooperation"] = {
            "capacity": measure.coop_capacity,
            "region": measure.coop_region,
            "deadline": measure.coop_deadline.isoformat() if measure.coop_deadline else None,
        }
    doc = {k: v for k, v in doc.items() if v is not None}
    return create_proof(
        doc,
        load_ed25519_private(keys.ed25519_private_pem),
        urls.ed25519_key_id(settings, library.handle),
        measure.updated_at,
    )


def tombstone(settings: Settings, uid: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted local measure's URL answers (with 410 Gone)."""
    return {
        "@context": urls.AS_CONTEXT,
        "id": urls.measure_id(settings, uid),
        "type": "Tombstone",
        "formerType": "Article",
        "deleted": iso(deleted),
    }


def activity(
    settings: Settings,
    activity_type: str,
    uid: str,
    actor: str,
    obj: Any,
    *,
    to: list[str],
    cc: list[str] | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    """An activity envelope with the node's context."""
    doc: dict[str, Any] = {
        "@context": context(),
        "id": urls.activity_id(settings, uid),
        "type": activity_type,
        "actor": actor,
        "object": obj,
        "to": to,
    }
    if cc:
        doc["cc"] = cc
    if published is not None:
        doc["published"] = iso(published)
    return doc


def ordered_collection(collection_id: str, total: int, first: str | None) -> dict[str, Any]:
    """An OrderedCollection whose items are in pages."""
    doc: dict[str, Any] = {
        "@context": urls.AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    return doc


def collection_page(
    page_id: str, collection_id: str, items: list[Any], next_page: str | None
) -> dict[str, Any]:
    """One OrderedCollectionPage."""
    doc: dict[str, Any] = {
        "@context": context(),
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if next_page is not None:
        doc["next"] = next_page
    return doc
