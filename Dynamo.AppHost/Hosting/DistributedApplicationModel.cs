namespace Dynamo.AppHost.Hosting;

/// <summary>The validated topology: resources in declaration order, with their dependencies resolved.</summary>
public sealed class DistributedApplicationModel
{
    public DistributedApplicationModel(IReadOnlyList<IResource> resources)
    {
        Resources = resources;
        foreach (var resource in resources)
        {
            foreach (var target in Dependencies(resource))
            {
                if (!resources.Contains(target))
                {
                    throw new InvalidOperationException($"Resource '{resource.Name}' refers to '{target.Name}', which was not added to this application.");
                }
            }
        }

        ThrowOnWaitCycle();
    }

    public IReadOnlyList<IResource> Resources { get; }

    public IEnumerable<ProjectResource> Projects => Resources.OfType<ProjectResource>();

    public IResource? Find(string name) => Resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public static IEnumerable<IResource> WaitsOf(IResource resource)
        => resource.Annotations.OfType<WaitAnnotation>().Select(a => a.Target).Distinct();

    public static IEnumerable<IResource> ReferencesOf(IResource resource)
        => resource.Annotations.OfType<ReferenceAnnotation>().Select(a => a.Target).Distinct();

    /// <summary>Everything the resource points at, waited for or not.</summary>
    public static IEnumerable<IResource> Dependencies(IResource resource) => WaitsOf(resource).Concat(ReferencesOf(resource)).Distinct();

    private void ThrowOnWaitCycle()
    {
        var state = new Dictionary<IResource, bool>();
        var path = new Stack<IResource>();
        foreach (var resource in Resources)
        {
            Visit(resource);
        }

        void Visit(IResource resource)
        {
            if (state.TryGetValue(resource, out var done))
            {
                if (!done)
                {
                    var cycle = path.Reverse().SkipWhile(r => r != resource).Select(r => r.Name).Append(resource.Name);
                    throw new InvalidOperationException($"Resources wait for each other in a cycle: {string.Join(" -> ", cycle)}.");
                }

                return;
            }

            state[resource] = false;
            path.Push(resource);
            foreach (var target in WaitsOf(resource))
            {
                Visit(target);
            }

            path.Pop();
            state[resource] = true;
        }
    }
}
