// The shared harness: real agent, free ports, temp directories, waiting on conditions.
global using Edge.Testing;
global using Edge.Testing.Agent;
global using Edge.Testing.Mqtt;
