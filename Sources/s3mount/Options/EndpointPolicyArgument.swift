import ArgumentParser
import EndpointPool

extension EndpointPolicy: ExpressibleByArgument {}
