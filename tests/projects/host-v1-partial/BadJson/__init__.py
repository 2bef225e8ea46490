def main(req):
    return "unreachable"
