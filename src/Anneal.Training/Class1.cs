namespace Anneal.Training;

public class Class1
{

}
