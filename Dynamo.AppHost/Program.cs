Console.WriteLine("Dynamo.AppHost");
