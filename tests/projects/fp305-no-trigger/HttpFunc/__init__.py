def main(obj):
    pass
