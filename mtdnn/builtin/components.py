"""The hook that registers the built-in components of every package.

Each package's components are imported inside the function that registers them, when the hook
runs (a registry is built), so loading this plugin (``mtdnn --help``) imports no torch.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in encoders, heads, losses, samplers, readers, metrics and training parts."""
    _encoders(registry)
    _heads(registry)
    _losses(registry)
    _samplers(registry)
    _readers(registry)
    _metrics(registry)
    _training(registry)
    _adversarial(registry)
    _distillation(registry)


def _encoders(registry: Registry) -> None:
    """Register the built-in encoders and pretrained model locations."""
    from mtdnn.encoders import (
        AllMiniLmL6V2,
        AllMpnetBaseV2,
        Encoder,
        HuggingFaceEncoder,
        LstmEncoder,
        PretrainedModel,
    )

    registry.add(Encoder, "hf", HuggingFaceEncoder)
    registry.add(Encoder, "lstm", LstmEncoder)
    registry.add(PretrainedModel, "all_minilm_l6_v2", AllMiniLmL6V2)
    registry.add(PretrainedModel, "all_mpnet_base_v2", AllMpnetBaseV2)


def _heads(registry: Registry) -> None:
    """Register the built-in heads."""
    from mtdnn.heads import (
        ClassificationHead,
        Head,
        MaskedLmHead,
        MultiLabelHead,
        RankingHead,
        RegressionHead,
        SanHead,
        SpanHead,
        TaggingHead,
    )

    registry.add(Head, "classification", ClassificationHead)
    registry.add(Head, "san", SanHead)
    registry.add(Head, "regression", RegressionHead)
    registry.add(Head, "ranking", RankingHead)
    registry.add(Head, "multilabel", MultiLabelHead)
    registry.add(Head, "mlm", MaskedLmHead)
    registry.add(Head, "tagging", TaggingHead)
    registry.add(Head, "span", SpanHead)


def _losses(registry: Registry) -> None:
    """Register the built-in losses."""
    from mtdnn.losses import (
        BinaryCrossEntropyLoss,
        CrossEntropyLoss,
        Loss,
        MaskedLmLoss,
        MeanSquaredErrorLoss,
        RankingCrossEntropyLoss,
        SpanCrossEntropyLoss,
    )

    registry.add(Loss, "cross_entropy", CrossEntropyLoss)
    registry.add(Loss, "mse", MeanSquaredErrorLoss)
    registry.add(Loss, "ranking_ce", RankingCrossEntropyLoss)
    registry.add(Loss, "bce", BinaryCrossEntropyLoss)
    registry.add(Loss, "mlm", MaskedLmLoss)
    registry.add(Loss, "span_ce", SpanCrossEntropyLoss)


def _samplers(registry: Registry) -> None:
    """Register the built-in samplers."""
    from mtdnn.samplers import (
        AnnealedSampler,
        MainAuxSampler,
        ProportionalSampler,
        ShuffleAllSampler,
        TaskSampler,
        TemperatureSampler,
        UniformSampler,
    )

    registry.add(TaskSampler, "shuffle_all", ShuffleAllSampler)
    registry.add(TaskSampler, "uniform", UniformSampler)
    registry.add(TaskSampler, "proportional", ProportionalSampler)
    registry.add(TaskSampler, "temperature", TemperatureSampler)
    registry.add(TaskSampler, "annealed", AnnealedSampler)
    registry.add(TaskSampler, "main_aux", MainAuxSampler)


def _readers(registry: Registry) -> None:
    """Register the built-in readers."""
    from mtdnn.readers import (
        AnliReader,
        ColumnsReader,
        GlueReader,
        QnliRankingReader,
        Reader,
        SciTailReader,
        SnliReader,
        SquadReader,
        SubsampleReader,
        SwapPairsReader,
        TaskTextsReader,
        TextReader,
    )

    registry.add(Reader, "columns", ColumnsReader)
    registry.add(Reader, "glue", GlueReader)
    registry.add(Reader, "snli", SnliReader)
    registry.add(Reader, "scitail", SciTailReader)
    registry.add(Reader, "anli", AnliReader)
    registry.add(Reader, "qnli_ranking", QnliRankingReader)
    registry.add(Reader, "subsample", SubsampleReader)
    registry.add(Reader, "swap_pairs", SwapPairsReader)
    registry.add(Reader, "text", TextReader)
    registry.add(Reader, "task_texts", TaskTextsReader)
    registry.add(Reader, "squad", SquadReader)


def _metrics(registry: Registry) -> None:
    """Register the built-in metrics."""
    from mtdnn.metrics import (
        F1,
        Accuracy,
        MacroF1,
        MaskedLmMetric,
        MatthewsCorrelation,
        Metric,
        MicroF1,
        PearsonCorrelation,
        RankingAccuracy,
        RocAuc,
        SeqevalMetric,
        SpearmanCorrelation,
        SquadMetric,
    )

    registry.add(Metric, "accuracy", Accuracy)
    registry.add(Metric, "f1", F1)
    registry.add(Metric, "f1_micro", MicroF1)
    registry.add(Metric, "f1_macro", MacroF1)
    registry.add(Metric, "mcc", MatthewsCorrelation)
    registry.add(Metric, "pearson", PearsonCorrelation)
    registry.add(Metric, "spearman", SpearmanCorrelation)
    registry.add(Metric, "auc", RocAuc)
    registry.add(Metric, "ranking_accuracy", RankingAccuracy)
    registry.add(Metric, "masked_lm", MaskedLmMetric)
    registry.add(Metric, "seqeval", SeqevalMetric)
    registry.add(Metric, "squad", SquadMetric)


def _training(registry: Registry) -> None:
    """Register the built-in optimizers, schedules, callbacks and objectives."""
    from mtdnn.training import (
        Adamax,
        AdamW,
        Callback,
        ConstantSchedule,
        EarlyStopping,
        LinearSchedule,
        Objective,
        Optimizer,
        RDropObjective,
        Scheduler,
        TaskLossObjective,
        TrimMemory,
    )
    from mtdnn.training.tensorboard import TensorBoard

    registry.add(Optimizer, "adamw", AdamW)
    registry.add(Optimizer, "adamax", Adamax)
    registry.add(Scheduler, "linear", LinearSchedule)
    registry.add(Scheduler, "constant", ConstantSchedule)
    registry.add(Callback, "early_stopping", EarlyStopping)
    registry.add(Callback, "trim_memory", TrimMemory)
    registry.add(Callback, "tensorboard", TensorBoard)  # imports tensorboard only when built
    registry.add(Objective, "task_loss", TaskLossObjective)
    registry.add(Objective, "r_drop", RDropObjective)


def _adversarial(registry: Registry) -> None:
    """Register the adversarial training objectives."""
    from mtdnn.adversarial import (
        FgmObjective,
        FreeLbObjective,
        PgdObjective,
        ProximalObjective,
        SmartObjective,
    )
    from mtdnn.training import Objective

    registry.add(Objective, "smart", SmartObjective)
    registry.add(Objective, "proximal", ProximalObjective)
    registry.add(Objective, "freelb", FreeLbObjective)
    registry.add(Objective, "fgm", FgmObjective)
    registry.add(Objective, "pgd", PgdObjective)


def _distillation(registry: Registry) -> None:
    """Register the distillation objectives."""
    from mtdnn.distill import BamObjective, HintonObjective, MseLogitsObjective, MtdnnKdObjective
    from mtdnn.training import Objective

    registry.add(Objective, "mtdnn_kd", MtdnnKdObjective)
    registry.add(Objective, "bam", BamObjective)
    registry.add(Objective, "hinton", HintonObjective)
    registry.add(Objective, "mse_logits", MseLogitsObjective)
