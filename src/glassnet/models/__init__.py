"""Ready-made networks: ``from glassnet.models import book_cnn``."""

from .cnn import book_cnn, spp_cnn
from .mlp import mlp
from .resnet import ResNet, plain_net, resnet_small
from .textcnn import TextCNN
from .skipgram import pretrain_skipgram
