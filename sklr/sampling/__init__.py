"""Row sampling for l_p losses: :class:`SensitivitySampler` and its scores."""

from ._sensitivity import SensitivitySampler, inclusion_probabilities, sampling_scores

__all__ = ["SensitivitySampler", "inclusion_probabilities", "sampling_scores"]
