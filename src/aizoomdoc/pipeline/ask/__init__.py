"""The ask pipeline: one question → one persisted answer, in the 14 steps of DESIGN.md.

    1 input → 2 chat created/continued → 3 user message → 4-6 attachments stored + recorded
    → 7 search → 8 hits stored → 9 viewports planned + rendered → 10 uploaded → 11 recorded
    → 12 LLM loop (zooms rendered, uploaded, recorded) → 13 assistant message → 14 read back

Where records hang (a deliberate, documented choice):

* Search results, viewports and user uploads belong to the **user message**: they exist before
  any model runs and survive a model failure.
* Zoom crops (and block images) the model asks for belong to the **assistant message**. Its id is
  generated up front (client-side uuid4); each zoom is rendered and uploaded as it happens, and
  its image record is written right after the assistant message (answer or error) is stored, in
  one bulk insert. The chat therefore never holds a half-written turn: either the user message
  alone (while working), or the user message plus an assistant message of type ``text`` or
  ``error``.

On any failure after the user message is stored, an assistant message with
``message_type="error"`` and a clear Russian text is saved and an :class:`ErrorEvent` emitted;
:meth:`AskService.ask` then returns the result with ``error`` set instead of raising. Failures
before that (unknown chat, unreadable document or attachment, empty question) raise
:class:`~aizoomdoc.errors.AizoomdocError` and write nothing.

The pipeline knows nothing of HTTP: progress goes to an ``on_event`` callback, or use
:meth:`AskService.stream` for an async iterator of events.

Modules, one job each:

* ``wiring.py`` — the composition root: builds the store, files, documents, provider, renderer…
* ``service.py`` — :class:`AskService`: the flow, steps 1–14, and the error message on failure
* ``turn.py`` — the state of one question (:class:`~aizoomdoc.pipeline.ask.turn.Turn`)
* ``attachments.py`` — the user's images: checked, stored (steps 4–6)
* ``hits.py`` — how a hit is shown (event, model context, search-result row)
* ``views.py`` — viewports (steps 9–11) and the images the model asks for
* ``answer.py`` — step 12: a language model or the direct answerer
* ``tools.py`` — the model's tool calls (zoom, request_images, search)
* ``citations.py`` — which hits an answer cites
* ``records.py`` — search-result and image records; step 14, the turn read back
"""

from aizoomdoc.pipeline.ask.attachments import Attachment
from aizoomdoc.pipeline.ask.hits import RESULT_TEXT_CHARS
from aizoomdoc.pipeline.ask.service import AskService, ask
from aizoomdoc.pipeline.ask.turn import EventCallback
from aizoomdoc.pipeline.ask.views import t_caption_viewport

__all__ = ["RESULT_TEXT_CHARS", "AskService", "Attachment", "EventCallback", "ask", "t_caption_viewport"]
