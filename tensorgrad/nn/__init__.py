"""tensorgrad.nn, as torch.nn: Parameter and Module, containers, layers, activations, losses,
nn.init and nn.utils. (The optimizers live in tensorgrad.optim; tg.nn.SGD, Adam, AdamW and
Optimizer stay here as aliases, as earlier versions documented them.)"""
from . import functional  # noqa: F401  (import tensorgrad.nn.functional as F)
from ..optim import SGD, Adam, AdamW, Optimizer  # noqa: F401  (aliases)
from . import init, parameter, utils  # noqa: F401
from .attention import MultiheadAttention  # noqa: F401
from .normalization import (BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d,  # noqa: F401
                            InstanceNorm3d, RMSNorm)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
from .sparse import EmbeddingBag  # noqa: F401
from .conv import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d  # noqa: F401
from .layers import (CELU, ELU, GELU, SELU, BatchNorm1d, BCELoss, BCEWithLogitsLoss, Bilinear, CrossEntropyLoss,  # noqa
                     Dropout, Embedding, Flatten, Hardsigmoid, Hardswish, Hardtanh, HuberLoss, Identity, KLDivLoss,
                     L1Loss, LayerNorm, LeakyReLU, Linear, LogSigmoid, LogSoftmax, Mish, MSELoss, NLLLoss, ReLU, ReLU6,
                     Sigmoid, SiLU, SmoothL1Loss, Softmax, Softplus, Softsign, Tanh, Unflatten)
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,  # noqa
                          TransformerEncoderLayer)
from .extra import (GLU, AdaptiveAvgPool1d, CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,  # noqa
                    ConstantPad2d, ConstantPad3d, CosineEmbeddingLoss, CosineSimilarity, Dropout1d, Dropout2d,
                    Dropout3d, Fold, GaussianNLLLoss, Hardshrink, HingeEmbeddingLoss, MarginRankingLoss,
                    PairwiseDistance, PixelShuffle, PixelUnshuffle, PReLU, ReflectionPad1d, ReflectionPad2d,
                    ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, Softmax2d, Softmin,
                    SoftMarginLoss, Softshrink, Tanhshrink, Threshold, TripletMarginLoss, Unfold, Upsample,
                    UpsamplingBilinear2d, UpsamplingNearest2d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .modules import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential  # noqa



from ..missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.nn")   # a missing name says which torch name it is
