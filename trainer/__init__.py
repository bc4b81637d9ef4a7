"""The seed's Horovod CIFAR-10 training script; cifar_cnn_distributed.py runs by path or with python -m."""
