"""Ready-made networks: ``from glassnet.models import book_cnn``; trained ones:
``glassnet.models.pretrained("resnet14-fashion")`` (see :mod:`.model_zoo`)."""

from .cnn import book_cnn, spp_cnn
from .mlp import mlp
from .model_zoo import pretrained, zoo_index
from .resnet import ResNet, plain_net, resnet_small
from .skipgram import pretrain_skipgram
from .textcnn import TextCNN

__all__ = ["ResNet", "TextCNN", "book_cnn", "mlp", "plain_net", "pretrain_skipgram", "pretrained", "resnet_small",
           "spp_cnn", "zoo_index"]
