namespace Anneal;

/// <summary>
/// Bad input from the user (a file, a spec, an option). The message names where the problem is
/// (file, line, column or parameter) and how to fix it; the CLI prints it and exits with code 2.
/// </summary>
public class InputException(string message) : Exception(message);
