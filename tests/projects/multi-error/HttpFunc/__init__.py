from __app__.shared import missing


def main():
    return missing.VALUE
