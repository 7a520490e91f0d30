"""How long a Piper voice takes to say a cue, asked of the voice itself, without making its audio.

A Piper voice (VITS) first predicts how many audio frames each phoneme
lasts, then makes the sound; the prediction is a small part of the work.
:class:`PiperTiming` cuts the voice's graph at that prediction (the input
of its one ``Ceil``, found as Piper's own ``patch_voice_with_alignment``
finds it) with onnx's ``Extractor`` and runs only that part, about 15 ms a
sentence, so ``qidsl plan`` knows each sentence's length to about 0.05 s
where a model of its spelling is 0.15 s off (the voice says some sentences
quicker than others).  The voice draws its durations with some noise
(``noise_w``); here the noise is 0, and three constants fitted on joe turn
the noiseless durations into the mean length of what a build draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import BuildError
from ..progress import Progress
from .piper_engine import resolve_voice
from .timing import SENTENCE_PAUSE, SpokenTiming, split_sentences, spoken_timing

if TYPE_CHECKING:  # Piper loads only when a voice is first timed
    from piper import PiperVoice

# A synthesised sentence, trimmed of its silence as the engine trims it (base.trim_silence), lasts
#     (FRAME_SCALE × the predicted frames + ID_FRAMES × the phoneme ids) × hop / sample rate + EDGE_SECONDS
# counted from its first phoneme to its last.  The build's durations are drawn with noise and each is
# rounded up to whole frames (about half a frame more per id, which tells more at a quick `rate`); the
# edge is the 20 ms margins the trim keeps, less the quiet ends it cuts.  Fitted on joe's sentences of
# routines/ and tests/cases/valid/ at rates 0.75 to 2: `python benchmarks/estimate_error.py --fit`.
FRAME_SCALE = 0.935
ID_FRAMES = 0.61
EDGE_SECONDS = 0.008
MANY_SENTENCES = 100  # about a second of timing: progress is shown beyond it
BATCH = 8  # sentences timed in one run of the predictor


class PiperTiming:
    """A :class:`qidsl.timeline.SpeechTimer` from a Piper voice's own duration predictor.

    ``voice`` and ``rate`` are the routine's settings, as :class:`PiperEngine`
    takes them; the voice is loaded on the first :meth:`timing` (about a
    second).  A voice that cannot be loaded is a :class:`BuildError`.
    """

    def __init__(self, voice: str | None = None, rate: float = 1.0, base_dir: Path | None = None):
        self.rate = float(rate)
        self.model_path, self.config_path = resolve_voice(voice, base_dir)
        self._voice: PiperVoice | None = None
        self._memo: dict[str, float] = {}

    @property
    def voice_name(self) -> str:
        return self.model_path.stem

    def _load(self):
        if self._voice is None:
            try:
                import onnx
                import onnxruntime
                from onnx.utils import Extractor
                from piper import PiperVoice
                from piper.config import PiperConfig

                model = onnx.load(str(self.model_path))
                # The frames each phoneme id lasts, before they are rounded up to whole frames.
                durations = [node.input[0] for node in model.graph.node if node.op_type == "Ceil"]
                if len(durations) != 1:
                    raise ValueError(f"{len(durations)} Ceil tensors, not the one of a Piper voice")
                inputs = [tensor.name for tensor in model.graph.input]
                predictor = Extractor(model).extract_model(inputs, durations)
                session = onnxruntime.InferenceSession(predictor.SerializeToString(),
                                                       providers=["CPUExecutionProvider"])
                config = PiperConfig.from_dict(json.loads(self.config_path.read_text(encoding="utf-8")))
                # Piper's phonemizer and phoneme ids, over the duration predictor in place of the whole voice.
                self._voice = PiperVoice(config=config, session=session)
                self._inputs = set(inputs)
            except Exception as exc:  # onnx, onnxruntime and json raise many kinds, none of them words for a user
                raise BuildError(f"the timing of the voice {self.model_path.name} cannot be read: it is not a "
                                 f"Piper voice, or it is damaged ({type(exc).__name__})") from exc
        return self._voice

    def sentence_seconds(self, sentence: str) -> float:
        """How long the voice takes to say one sentence (as :class:`PiperEngine` speaks it), or 0 if silent."""
        if sentence not in self._memo:
            self._memo[sentence] = self._seconds(self.predicted_frames(sentence))
        return self._memo[sentence]

    def _seconds(self, parts: list[tuple[float, int]]) -> float:
        config = self._load().config
        frame_seconds = config.hop_length / config.sample_rate
        lengths = [(FRAME_SCALE * frames + ID_FRAMES * ids) * frame_seconds + EDGE_SECONDS for frames, ids in parts]
        # Should espeak split a sentence further, the engine joins its parts with the usual pause.
        return sum(lengths) + SENTENCE_PAUSE * (len(lengths) - 1) if lengths else 0.0

    def predicted_frames(self, sentence: str) -> list[tuple[float, int]]:
        """For each part espeak makes of ``sentence``: the frames its sounds last (unrounded) and their number.

        What :meth:`sentence_seconds` is worked out from; the benchmark fits its constants on them.
        """
        return self._predict(self._phoneme_ids(sentence))

    def _phoneme_ids(self, sentence: str) -> list[list[int]]:
        """The phoneme ids of each part espeak makes of ``sentence``, as Piper feeds them to the voice."""
        voice = self._load()
        return [voice.phonemes_to_ids(phonemes) for phonemes in voice.phonemize(sentence) if phonemes]

    def _predict(self, id_lists: list[list[int]]) -> list[tuple[float, int]]:
        """(frames, sounds) of each list of phoneme ids, in one run of the predictor (padded to the longest)."""
        import numpy as np

        if not id_lists:
            return []
        voice = self._load()
        config = voice.config
        ids = np.zeros((len(id_lists), max(map(len, id_lists))), dtype=np.int64)  # 0 is Piper's pad
        for row, one in enumerate(id_lists):
            ids[row, :len(one)] = one
        feed = {"input": ids, "input_lengths": np.array([len(one) for one in id_lists], dtype=np.int64),
                "scales": np.array([config.noise_scale, config.length_scale / self.rate, 0.0], dtype=np.float32)}
        if "sid" in self._inputs:
            feed["sid"] = np.full(len(id_lists), config.default_speaker_id, dtype=np.int64)
        frames = voice.session.run(None, feed)[0].reshape(len(id_lists), -1)
        # ids are ^ _ p1 _ p2 _ … pn _ $: the sound runs from p1 to pn.
        return [(float(row[2:len(one) - 2].sum()), len(one) - 4) for row, one in zip(frames, id_lists)]

    def prepare(self, texts: Iterable[str], progress: bool | None = None) -> None:
        """Time every sentence of ``texts`` now (loading the voice), with progress shown when there are many.

        Sentences of about the same length go through the predictor together
        (:data:`BATCH` at a time), about a third quicker than one by one.  A
        :class:`BuildError` comes here, not half-way through laying out a
        timeline, when the voice will not load.
        """
        sentences = [sentence for sentence in dict.fromkeys(s for text in texts for s in split_sentences(text))
                     if sentence not in self._memo]
        if not sentences:
            return  # nothing to say: no need to load the voice
        parts = {sentence: self._phoneme_ids(sentence) for sentence in sentences}
        work = sorted(((sentence, at) for sentence, ids in parts.items() for at in range(len(ids))),
                      key=lambda job: len(parts[job[0]][job[1]]))
        reporter = Progress(len(work), progress if len(work) > MANY_SENTENCES else False,
                            f"timing ({self.voice_name})", "sentence",
                            lambda done, total, sentence: f"timing {done}/{total} ({self.voice_name})", lines=10)
        predicted: dict[tuple[str, int], tuple[float, int]] = {}
        try:
            for first in range(0, len(work), BATCH):
                batch = work[first:first + BATCH]
                predicted.update(zip(batch, self._predict([parts[sentence][at] for sentence, at in batch])))
                reporter.step(batch[-1][0], count=len(batch))
        finally:
            reporter.close()
        for sentence, ids in parts.items():
            self._memo[sentence] = self._seconds([predicted[sentence, at] for at in range(len(ids))])

    def timing(self, text: str) -> SpokenTiming:
        """Where the sentences of ``text`` fall and how long it lasts, as the engine would say it."""
        return spoken_timing(text, self.sentence_seconds)


def create_timer(settings, base_dir: Path | None = None) -> PiperTiming:
    """The timer for a routine's settings (see :func:`qidsl.engines.synthesize.make_timer`)."""
    return PiperTiming(settings.voice, rate=settings.rate, base_dir=base_dir)
